"""The 13-digit Thai tax / citizen ID check digit and ETDA's 18-digit TXID form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archive.inspection.taxid import split_registration
from archive.thai import is_valid_tax_id


def test_known_ids_pass_and_samples_or_wrong_lengths_fail() -> None:
    assert is_valid_tax_id("0105538025143")
    assert is_valid_tax_id("0994000165510")
    assert not is_valid_tax_id("1111111111111")  # ETDA sample seller
    assert not is_valid_tax_id("3333333333334")  # ETDA sample seller
    assert not is_valid_tax_id("010553802514")  # 12 digits
    assert not is_valid_tax_id("01055380251430")  # 14 digits
    assert not is_valid_tax_id("010553802514X")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_one_last_digit_is_right(first12: str) -> None:
    assert sum(is_valid_tax_id(first12 + d) for d in "0123456789") == 1


def test_txid_splits_into_id_and_branch() -> None:
    reg = split_registration("010553802514300002", "TXID")
    assert (reg.tax_id, reg.branch, reg.scheme) == ("0105538025143", "00002", "TXID")
    assert split_registration(" 0105538025143 ", "NIDN").branch is None
    odd = split_registration("AB123", "OTHR")
    assert (odd.tax_id, odd.raw) == (None, "AB123")
