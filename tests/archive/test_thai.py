"""One tax-ID check: ASCII digits or Thai numerals, the same answer everywhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archive.evidence.schemas import EvidenceMetadata
from archive.inspection.taxid import split_registration
from archive.thai import ascii_digits, is_valid_tax_id, tax_id_check_digit

THAI_ID = "๐๑๐๕๕๓๘๐๒๕๑๔๓"       # 0105538025143 in Thai numerals


def test_thai_numerals_are_digits_of_a_tax_id():
    assert ascii_digits(THAI_ID) == "0105538025143"
    assert is_valid_tax_id(THAI_ID) and is_valid_tax_id("0105538025143")
    assert not is_valid_tax_id("๐๑๐๕๕๓๘๐๒๕๑๔๔")
    assert tax_id_check_digit("๐๑๐๕๕๓๘๐๒๕๑๔") == 3
    assert not is_valid_tax_id("٠١٠٥٥٣٨٠٢٥١٤٣")     # other scripts' digits are not ours


def test_a_typed_tax_id_in_thai_numerals_is_accepted_and_kept_in_ascii():
    meta = EvidenceMetadata(org_code="sao-1", doc_type="receipt", fiscal_year=2568,
                            issuer_tax_id="๐-๑๐๕๕-๓๘๐๒๕-๑๔-๓")
    assert meta.issuer_tax_id == "0105538025143"
    with pytest.raises(ValidationError, match="check digit"):
        EvidenceMetadata(org_code="sao-1", doc_type="receipt", fiscal_year=2568,
                         issuer_tax_id="๐๑๐๕๕๓๘๐๒๕๑๔๔")


def test_an_e_invoice_tax_id_in_thai_numerals_is_read_as_ascii():
    reg = split_registration("๐๑๐๕๕๓๘๐๒๕๑๔๓๐๐๐๐๒", "TXID")
    assert (reg.tax_id, reg.branch) == ("0105538025143", "00002")
