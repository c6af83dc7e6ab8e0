"""A worker process recomputes vouchers when an inspection changes a linked file: the
handlers package subscribes the disbursement service to evidence events on its own (a
worker never imports the API)."""

from __future__ import annotations

import subprocess
import sys


def test_a_worker_process_listens_for_evidence_changes_without_the_api():
    code = ("import sys, workers.handlers; from archive.evidence import events; "
            "names = [f.__module__ + '.' + f.__name__ for f in events.listeners()]; "
            "assert 'api' not in {m.split('.')[0] for m in sys.modules}, 'the API was imported'; "
            "print(names)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "archive.disbursements.service._on_evidence_changed" in out.stdout
