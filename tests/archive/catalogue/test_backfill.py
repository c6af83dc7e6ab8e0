"""An archive from before the store described itself: ``archive catalogue backfill``
writes what the store lacks, once, and a rebuild from it then passes the checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from typer.testing import CliRunner

from archive.audit.checkpoints import verify_chain, write_checkpoint
from archive.integrity.verify import verify
from cli.main import app as cli_app
from tests.archive.catalogue.test_rebuild import _correct, _fresh
from tests.conftest import Env, StackBase
from tests.factories import make_pdf, upload, world


def _catalogue(env: Env) -> list[str]:
    return [i.key for prefix in ("catalogue/", "audit/segments/")
            for i in env.store.list_objects(prefix)]


def test_backfill_describes_an_older_archive_once(env: Env, stack: StackBase, tmp_path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN records ingested and corrected, and a checkpoint, by a version that wrote
    neither manifests nor snapshots nor audit segments
    WHEN `archive catalogue backfill` runs (twice)
    THEN the first run writes them and the second nothing; a rebuild from the store then
    passes `archive verify` and the audit chain, with the version history intact."""
    from archive.audit import checkpoints
    from archive.catalogue import objects
    from archive.unit_of_work import make_session_factory

    monkeypatch.setattr(objects, "write_pending",
                        lambda session: session.info.pop("catalogue_pending", None))
    monkeypatch.setattr(checkpoints, "write_segment", lambda *a, **k: "")
    old = dataclasses.replace(env, sessions=make_session_factory(env.engine, env.store),
                              apps=[])
    tokens = world(old)
    ids = []
    for text in ("one", "two"):
        r = upload(old.client(tokens["off1"]), make_pdf(text), fiscal_year=2568,
                   amount="100.00")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    _correct(old, tokens["off1"], ids[0], "แก้ไข", doc_number="A-1")
    with old.session() as s:
        write_checkpoint(s, old.store, retain_until=dt.datetime.now(dt.UTC) +
                         dt.timedelta(days=2))
    old.close()
    monkeypatch.undo()
    assert _catalogue(env) == []

    runner = CliRunner()
    variables = {k: v for k, v in env.env_vars().items() if k.startswith("ARCHIVE_")}
    first = runner.invoke(cli_app, ["catalogue", "backfill"], env=variables)
    assert first.exit_code == 0, first.output
    assert "6 organisations" in first.stdout and "3 record manifests" in first.stdout, \
        first.stdout
    assert "1 audit segment" in first.stdout, first.stdout
    written = _catalogue(env)
    second = runner.invoke(cli_app, ["catalogue", "backfill"], env=variables)
    assert second.exit_code == 0 and "0 record manifests" in second.stdout, second.stdout
    assert _catalogue(env) == written

    history: dict[str, Any] = {rid: env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{rid}").json()["history"] for rid in ids}
    rebuilt, dropped = _fresh(env, stack, tmp_path)
    try:
        run = runner.invoke(cli_app, ["rebuild", "--from-store"], env={
            k: v for k, v in rebuilt.env_vars().items() if k.startswith("ARCHIVE_")})
        assert run.exit_code == 0, run.output
        with rebuilt.session() as s:
            report = verify(s, rebuilt.store)
            assert report.ok and report.records_checked == 2, report.problems
            chain = verify_chain(s, rebuilt.store)
            assert chain.ok, chain.problems
        token = rebuilt.user("aud1", "auditor", ["p-cm"])
        for rid in ids:
            again = rebuilt.client(token).get(f"/api/v1/evidence/{rid}").json()["history"]
            assert [{k: v for k, v in h.items() if k != "id"} for h in again] == \
                [{k: v for k, v in h.items() if k != "id"} for h in history[rid]]
    finally:
        rebuilt.close()
        rebuilt.engine.dispose()
        dropped()
