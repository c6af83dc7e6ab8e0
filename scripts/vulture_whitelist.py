# Names vulture cannot see used (read by the Makefile's lint step, never imported).
# ruff: noqa
_ = object()

_.yesno            # api/web/present.py Formatter.yesno: templates call fmt.yesno(...)
_.do_POST          # tests/tsa.py: http.server hooks
_.log_message
_.format_date_be   # archive/thai.py: Thai dates for people, a domain fact kept for use
# archive/pdfa/*: owned by the PDF/A work, whose helpers are left to it
_.object_number
_.page_index
_.open_context
_.cmap_ordering
_.is_pdf_path
_.is_string
_.all_rules
_.not_implemented

# Fields read by pydantic, SQLAlchemy and the templates (generated: vulture --make-whitelist).
_.CLOSURE_RESULTS  # unused variable (archive/retention/models.py:21)
_.CursorResult  # unused import (archive/retention/schedules/service.py:23)
_.ENCODING_NAMES  # unused variable (archive/pdfa/fontenc.py:12)
_.EXPORT_STATUSES  # unused variable (archive/search/models.py:48)
_.FUNCTIONS  # unused variable (archive/retention/models.py:36)
_.HOLD_KINDS  # unused variable (archive/retention/models.py:22)
_.Mutator  # unused variable (tests/archive/pdfa/fontfixtures.py:137)
_.PDFA_VERDICTS  # unused variable (archive/search/schemas.py:19)
_.SEVERITIES  # unused variable (archive/inspection/report.py:21)
_.TARGET_FLAVOURS  # unused variable (bench/pdfa_corpus.py:37)
_.VOTES  # unused variable (archive/retention/models.py:35)
_._.AF  # unused attribute (tests/archive/inspection/helpers.py:151)
_._.AFRelationship  # unused attribute (tests/archive/pdfa/test_rules.py:249)
_._.AcroForm  # unused attribute (tests/archive/pdfa/test_rules.py:233)
_._.Annots  # unused attribute (tests/archive/inspection/test_embedded.py:55)
_._.CIDSet  # unused attribute (tests/archive/pdfa/fontfixtures.py:194)
_._.CIDToGIDMap  # unused attribute (tests/archive/pdfa/fontfixtures.py:204)
_._.CheckSum  # unused attribute (tests/archive/inspection/helpers.py:143)
_._.ColorSpace  # unused attribute (tests/archive/pdfa/test_graphics_rules.py:132)
_._.Contents  # unused attribute (tests/archive/inspection/helpers.py:135)
_._.ExtGState  # unused attribute (tests/archive/pdfa/test_graphics_rules.py:75)
_._.Extra  # unused attribute (tests/archive/pdfa/test_rules.py:67)
_._.FontFile2  # unused attribute (tests/archive/pdfa/fontfixtures.py:192)
_._.Group  # unused attribute (tests/archive/pdfa/test_graphics_rules.py:179)
_._.I  # unused attribute (tests/archive/pdfa/test_graphics_rules.py:177)
_._.Info  # unused attribute (tests/archive/pdfa/test_rules.py:302)
_._.LastChar  # unused attribute (tests/archive/pdfa/test_fonts.py:135)
_._.Length1  # unused attribute (tests/archive/pdfa/fontfixtures.py:162)
_._.Length2  # unused attribute (tests/archive/pdfa/fontfixtures.py:162)
_._.Length3  # unused attribute (tests/archive/pdfa/fontfixtures.py:162)
_._.Names  # unused attribute (tests/archive/inspection/helpers.py:149)
_._.Note  # unused attribute (tests/archive/pdfa/test_rules.py:78)
_._.OpenAction  # unused attribute (tests/archive/pdfa/test_rules.py:223)
_._.Padding  # unused attribute (tests/factories.py:22)
_._.Params  # unused attribute (tests/archive/inspection/helpers.py:144)
_._.Subtype  # unused attribute (tests/archive/inspection/helpers.py:140)
_._.ToUnicode  # unused attribute (tests/archive/pdfa/fontfixtures.py:176)
_._.Type  # unused attribute (tests/archive/inspection/helpers.py:139)
_._.archives_recorded_by  # unused attribute (archive/retention/disposition.py:590)
_._.archives_sent_by  # unused attribute (archive/retention/disposition.py:559)
_._.base_url  # unused attribute (tests/web/test_auth.py:69)
_._.closed_reason  # unused attribute (archive/retention/disposition.py:158)
_._.document_name  # unused attribute (archive/inspection/invoice.py:241)
_._.embedded_files  # unused attribute (archive/inspection/core.py:161)
_._.eof_found  # unused attribute (archive/pdfa/rawscan.py:95)
_._.has_header  # unused attribute (archive/pdfa/xmp.py:213)
_._.issue_datetime_raw  # unused attribute (archive/inspection/invoice.py:245)
_._.language  # unused attribute (tests/archive/pdfa/fontfixtures.py:54)
_._.last_checkpoint_seq  # unused attribute (archive/audit/checkpoints.py:179)
_._.should_exit  # unused attribute (tests/web/test_browser.py:63)
_._.signer_certificate_sha256  # unused attribute (archive/inspection/pdfsig.py:95)
_._.tableVersion  # unused attribute (tests/archive/pdfa/fontfixtures.py:63)
_._.xref_tables  # unused attribute (archive/pdfa/rawscan.py:114)
_.added_at  # unused variable (archive/retention/models.py:86)
_.after_endstream  # unused variable (archive/pdfa/rawscan.py:193)
_.against  # unused variable (archive/inspection/report.py:122)
_.archives_recorded_by  # unused variable (archive/retention/models.py:136)
_.archives_sent_by  # unused variable (archive/retention/models.py:130)
_.closed_reason  # unused variable (archive/retention/models.py:142)
_.document_name  # unused variable (archive/inspection/report.py:101)
_.embedded_files  # unused variable (archive/inspection/report.py:258)
_.eof_found  # unused variable (archive/pdfa/rawscan.py:48)
_.exc_type  # unused variable (archive/storage/s3.py:190)
_.frame  # unused variable (cli/main.py:112)
_.from_annotation  # unused variable (archive/pdfa/context.py:454)
_.has_header  # unused variable (archive/pdfa/xmp.py:75)
_.head_of_agency  # unused variable (archive/retention/schemas.py:205)
_.html_size  # unused variable (archive/retention/models.py:214)
_.impl  # unused variable (archive/db.py:43)
_.inherit_cache  # unused variable (archive/search/service.py:435)
_.is_uri  # unused variable (archive/pdfa/xmp.py:50)
_.issue_datetime_raw  # unused variable (archive/inspection/report.py:104)
_.last_checkpoint_seq  # unused variable (archive/audit/checkpoints.py:110)
_.model_config  # unused variable (api/routers/admin.py:19)
_.national_archives  # unused variable (archive/retention/schemas.py:206)
_.organisations  # unused variable (archive/retention/schemas.py:54)
_.parent_names  # unused variable (archive/migrations/env.py:28)
_.previous_transaction  # unused variable (archive/audit/service.py:77)
_.pytestmark  # unused variable (tests/web/test_browser.py:31)
_.report_version  # unused variable (archive/inspection/report.py:265)
_.severity  # unused variable (archive/inspection/report.py:33)
_.signer_certificate_sha256  # unused variable (archive/inspection/report.py:180)
_.signum  # unused variable (cli/main.py:112)
_.store_lock  # unused variable (archive/retention/schemas.py:102)
_.tb  # unused variable (archive/storage/s3.py:190)
_.title_en  # unused variable (archive/retention/schedules/models.py:48)
_.title_th  # unused variable (archive/retention/schedules/models.py:47)
_.type_  # unused variable (archive/migrations/env.py:28)
_.uploaded_by  # unused variable (archive/evidence/models.py:70)
_.xref_tables  # unused variable (archive/pdfa/rawscan.py:52)
_.iter_kinds        # workers/registry.py: the CLI's jobs commands (main)
_.__getattr__      # archive/pdfa/__init__.py: the module's lazy attributes (PEP 562)
_.mtime            # archive/tempfiles.py
_.D                # tests/archive/pdfa: pikepdf dictionary keys set by attribute
_.Parent
_.Kids
_.FT
# New in main from the disbursements work (fields read by pydantic/SQLAlchemy; the two
# functions and evidence.events.listeners are not called yet — for that work to settle)
_.REVIEW_OUTCOMES
_.budget_code
_.procurement_method
_.egp_project_no
_.contract_no
_.disbursement_ids
_.outside_scope
_.upsert
_.evidence_ids_of
_.listeners
# uvicorn's Server reads it (tests/live.py stops its test server with it)
_.force_exit
# used by migration 0080 (migrations are outside vulture's paths)
_.thai_search_form_sql
# a field of the renditions listing (RenditionOut), read by clients
_.content_url
# pydantic fields read by the templates (a stored message's code and parameters)
_.retention_period_message
_.reason_message
