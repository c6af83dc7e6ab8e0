"""What a kill -9 leaves in the temporary folders is reported and cleaned (issue 15,
item 7).

GIVEN a real ``archive serve`` process with uploads half-sent (their spools on disk under
``var/tmp``) and, on the local store, one upload paused inside the store's write (its
temporary file in ``objects/.tmp``), WHILE it runs ``archive verify`` reports nothing (the
files are in use), WHEN it is killed with SIGKILL THEN ``archive verify`` reports each
file left behind with its size, and the next start of the server removes them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests import servers
from tests.conftest import Env
from tests.factories import make_pdf, world

ARCHIVE = [sys.executable, "-m", "cli"]
BOUNDARY = "h15b-crash-boundary"


@contextmanager
def _server(env: Env, extra: dict[str, str], log_name: str
            ) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = servers.free_port()
    log = open(env.settings.data_dir / log_name, "wb")  # noqa: SIM115
    proc = subprocess.Popen([*ARCHIVE, "serve", "--port", str(port)],
                            env={**env.env_vars(), "ARCHIVE_EMBEDDED_WORKER": "false",
                                 **extra}, stdout=log, stderr=log)
    try:
        servers.wait_for_port(port, 60, proc)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)
        log.close()


def _half_sent_upload(port: int, token: str, sent: int, declared: int) -> socket.socket:
    """An upload whose body stops after ``sent`` bytes of a ``declared``-byte file."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"org_code\"\r\n\r\n"
            f"sao-1\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n"
            f"\r\nreceipt\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall((f"POST /api/v1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {token}\r\n"
                  f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                  f"Content-Length: {len(head) + declared + len(tail)}\r\n\r\n").encode())
    sock.sendall(head + b"%PDF-1.7\n" + b"x" * (sent - 9))
    return sock


def _temp_files(env: Env) -> dict[Path, int]:
    return {p: p.stat().st_size for d in env.settings.temp_dirs if d.is_dir()
            for p in d.rglob("*") if p.is_file()}


def _wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _verify(env: Env) -> tuple[int, dict[str, object]]:
    done = subprocess.run([*ARCHIVE, "verify", "--json"], env=env.env_vars(),
                          capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_killed_server_leaves_temp_files_that_verify_reports_and_a_restart_removes(env: Env):
    tokens = world(env)
    extra = {"ARCHIVE_SPOOL_MEMORY_BYTES": "1024"}       # spools go to disk at once
    local = env.weed is None
    if local:   # one upload stops inside the store's write, after its temporary file
        extra["ARCHIVE_FAILPOINTS"] = "store.local.before_rename=sleep:120"
    sockets: list[socket.socket] = []
    with _server(env, extra, "first.log") as (proc, port):
        for n in range(3):
            sockets.append(_half_sent_upload(port, tokens["off1"], 300_000 + n, 5_000_000))
        if local:
            pdf = make_pdf("stuck-in-put", pad=200_000)
            stuck = subprocess.Popen(
                ["curl", "-s", "-o", "/dev/null", "-H", f"Authorization: Bearer {tokens['off1']}",
                 "-F", "org_code=sao-1", "-F", "doc_type=receipt", "-F",
                 f"file=@{_write(env, pdf)};filename=stuck.pdf",
                 f"http://127.0.0.1:{port}/api/v1/evidence"])
        expected_dirs = {env.settings.tmp_dir} | ({env.settings.objects_dir / ".tmp"}
                                                  if local else set())
        _wait_for(lambda: {p.parent for p, size in _temp_files(env).items()
                           if size >= 200_000} >= expected_dirs
                  and sum(1 for p in _temp_files(env) if p.parent == env.settings.tmp_dir)
                  >= 3)
        code, live = _verify(env)              # in use by a live process: not leftovers
        assert not [p for p in live["problems"] if p["kind"] == "leftover"], live  # type: ignore[union-attr]
        proc.kill()                            # SIGKILL: no cleanup of any kind
        proc.wait(10)
        if local:
            stuck.kill()
            stuck.wait(10)
    for sock in sockets:
        sock.close()

    left = _temp_files(env)
    assert len(left) >= (4 if local else 3) and sum(left.values()) >= 900_000, left
    code, report = _verify(env)
    assert code == 1
    problems = report["problems"]
    assert isinstance(problems, list)
    reported = {Path(p["key"]): p["detail"] for p in problems if p["kind"] == "leftover"}
    assert set(reported) == set(left)
    for path, size in left.items():
        assert reported[path].startswith(f"{size} bytes")
    assert report["leftover_bytes"] == sum(left.values())

    with _server(env, {}, "second.log") as (_, port):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        assert _temp_files(env) == {}
    code, after = _verify(env)
    assert not [p for p in after["problems"] if p["kind"] == "leftover"]  # type: ignore[union-attr]
    assert after["leftover_bytes"] == 0


def _write(env: Env, data: bytes) -> Path:
    path = env.settings.data_dir.parent / "stuck.pdf"
    path.write_bytes(data)
    return path
