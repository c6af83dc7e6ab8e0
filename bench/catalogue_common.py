"""What bench/catalogue_ingest.py and bench/catalogue_vouchers.py share: a fresh SQLite
archive with one LAO, the store (the local folder, or ``--s3``), and a switch that turns
the catalogue's writing off and on for the baseline.

The switch wraps :func:`archive.catalogue.objects.write_pending` *before* the session
factory registers it as the ``before_commit`` listener: the listener is the function
object registered, so replacing the module's attribute afterwards changes nothing (the
first versions of these benches did that, and compared the catalogue with itself)."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--s3")
    parser.add_argument("--access-key", default="")
    parser.add_argument("--secret-key", default="")


@dataclass
class Bench:
    tmp: Path
    store: Any
    sessions: Any
    actor: Any
    switch: Callable[[bool], None]


def setup(args: argparse.Namespace, prefix: str) -> Bench:
    from archive.accounts.principal import system_principal
    from archive.catalogue import objects
    from archive.db import make_engine, upgrade
    from archive.orgs import service as orgs
    from archive.storage import ObjectStore
    from archive.storage.local import LocalStore
    from archive.unit_of_work import make_session_factory, session_scope

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    engine = make_engine(f"sqlite:///{tmp / 'archive.db'}")
    upgrade(engine)
    store: ObjectStore
    if args.s3:
        from archive.storage.s3 import S3Store

        store = S3Store(endpoint=args.s3, access_key=args.access_key,
                        secret_key=args.secret_key, bucket=f"bench-{os.getpid()}")
    else:
        store = LocalStore(tmp / "objects")
    store.prepare()
    enabled = [True]
    write = objects.write_pending

    def switchable(session: Any) -> None:
        if enabled[0]:
            write(session)
        else:                       # the baseline: what was staged is forgotten
            session.info.pop("catalogue_pending", None)

    objects.write_pending = switchable  # type: ignore[assignment]
    sessions = make_session_factory(engine, store)   # registers switchable
    actor = system_principal("bench")
    with session_scope(sessions) as s:
        orgs.create(s, actor, code="dla", name="DLA", type="dla-office")
        orgs.create(s, actor, code="p-1", name="P", type="province", parent_code="dla")
        orgs.create(s, actor, code="1234567", name="LAO", type="sao", parent_code="p-1")

    def switch(with_catalogue: bool) -> None:
        enabled[0] = with_catalogue

    return Bench(tmp, store, sessions, actor, switch)
