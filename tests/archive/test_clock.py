"""One clock: every date the archive decides by is a Thailand date from ``archive.clock``.

The server's own time zone is not Thailand's (the image sets none; this machine runs in
UTC), so ``date.today()`` answers the UTC date — from 00:00 to 07:00 Thai time, yesterday.
These tests freeze the archive's clock (the public seam ``clock.frozen``) at such hours.
"""

from __future__ import annotations

import datetime as dt

import pytest

from archive import clock
from archive.errors import InvalidInput
from archive.evidence.schemas import EvidenceMetadata
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

# 1 October 2025, 00:30 in Thailand: FY 2569 has begun; in UTC it is still 30 September.
NEW_YEAR_0030 = "2025-09-30T17:30:00+00:00"
# 30 September 2025, 23:59 in Thailand: the last minute of FY 2568.
OLD_YEAR_2359 = "2025-09-30T16:59:00+00:00"


def test_the_business_date_is_thailand_s():
    with clock.frozen(NEW_YEAR_0030):
        assert clock.now() == dt.datetime(2025, 9, 30, 17, 30, tzinfo=dt.UTC)
        assert clock.today() == dt.date(2025, 10, 1)
    with clock.frozen(OLD_YEAR_2359):
        assert clock.today() == dt.date(2025, 9, 30)
    assert clock.system_now().tzinfo is not None


def test_thai_date_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        clock.thai_date(dt.datetime(2025, 9, 30, 17, 30))


def test_fiscal_year_without_an_issue_date_follows_the_thai_date():
    with clock.frozen(NEW_YEAR_0030):
        assert EvidenceMetadata(org_code="sao-1", doc_type="receipt").fiscal_year == 2569
    with clock.frozen(OLD_YEAR_2359):
        assert EvidenceMetadata(org_code="sao-1", doc_type="receipt").fiscal_year == 2568


def test_an_upload_at_0030_on_1_october_gets_the_new_fiscal_year(env: Env):
    tokens = world(env)
    client = env.client(tokens["off1"])
    with clock.frozen(NEW_YEAR_0030):
        r = upload(client, make_pdf("fy-new-year"))
    assert r.status_code == 201, r.text
    assert r.json()["fiscal_year"] == 2569
    with clock.frozen(OLD_YEAR_2359):
        r = upload(client, make_pdf("fy-old-year"))
    assert r.status_code == 201, r.text
    assert r.json()["fiscal_year"] == 2568


def test_issue_date_in_the_future_is_judged_by_the_thai_date(env: Env):
    """At 00:30 on 1 October (Thai) tomorrow is 2 October; 3 October is in the future."""
    tokens = world(env)
    client = env.client(tokens["off1"])
    with clock.frozen(NEW_YEAR_0030):
        ok = upload(client, make_pdf("issued-tomorrow"), issue_date="2025-10-02")
        refused = upload(client, make_pdf("issued-later"), issue_date="2025-10-03")
    assert ok.status_code == 201, ok.text
    assert refused.status_code == 422, refused.text


def test_account_expiry_is_judged_by_the_archive_s_clock(env: Env):
    world(env)
    with clock.frozen("2020-01-15"):
        env.user("temp1", "officer", ["sao-1"], expires_on=dt.date(2021, 1, 1))
        with pytest.raises(InvalidInput):
            env.user("temp2", "officer", ["sao-1"], expires_on=dt.date(2020, 1, 15))
