"""The rule table: ids, duplicates, coverage and the report shape."""

from __future__ import annotations

import json

import pytest

from archive.pdfa import FLAVOURS, PdfaReport, check_pdfa, coverage, rules_for
from archive.pdfa.registry import _parse_id, rule
from archive.pdfa.report import Failure


def test_ids_expand_parts_and_flavours() -> None:
    flavours, _, clause, test = _parse_id("2,3a:6.1.3-2")
    assert flavours == {"2a", "2b", "2u", "3a"}
    assert (clause, test) == ("6.1.3", 2)


def test_bad_id_is_refused() -> None:
    with pytest.raises(ValueError):
        _parse_id("9:6.1.3-2")


def test_a_clause_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        rule("1:6.1.3-2")(lambda ctx: iter(()))


def test_every_flavour_has_rules_in_profile_order() -> None:
    for flavour in FLAVOURS:
        rules = rules_for(flavour)
        assert rules, flavour
        cov = coverage(flavour)
        assert cov.total >= 100
        assert len(cov.implemented) + len(cov.missing) == cov.total


def test_garbage_gives_a_clean_error() -> None:
    report = check_pdfa(b"this is not a pdf")
    assert report.error and not report.compliant


def test_report_round_trips_through_json() -> None:
    report = PdfaReport(path="a.pdf", claimed="2b", flavour="2b", compliant=False,
                        failures=[Failure(2, "6.1.3", 1, "no ID", 7, 1)])
    data = json.loads(json.dumps(report.to_dict()))
    assert PdfaReport.from_dict(data) == report
    assert set(data) == {"path", "claimed", "flavour", "compliant", "failures", "error"}
    assert set(data["failures"][0]) == {"part", "clause", "test", "message", "object", "page"}
