"""A real HTTP server (uvicorn, in a thread, on 127.0.0.1) for tests that need real
sockets: slow clients, half-sent requests, concurrency."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve(app: Any, **config: Any) -> Iterator[int]:
    """Serve ``app`` on a free port of 127.0.0.1; yields the port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(10)
        sock.close()


BOUNDARY = "slowclientboundary"


def start_slow_upload(port: int, token: str, *, org_code: str = "sao-1",
                      declared_extra: int = 100_000) -> socket.socket:
    """Open an upload and send its headers and the start of the file, then stop: the
    server is left waiting for the rest of the body."""
    b = BOUNDARY
    head = (f"--{b}\r\nContent-Disposition: form-data; name=\"org_code\"\r\n\r\n{org_code}\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\nreceipt\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n").encode()
    request = (f"POST /api/v1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {token}\r\n"
               f"Content-Type: multipart/form-data; boundary={b}\r\n"
               f"Content-Length: {len(head) + declared_extra}\r\n\r\n").encode() + head
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(request)
    return conn


def read_status(conn: socket.socket, timeout: float) -> tuple[int, bytes]:
    """The status code of the answer on ``conn`` (and what was read), waiting at most
    ``timeout`` seconds; 0 if the server closed without answering."""
    conn.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        return -1, data
    if not data:
        return 0, data
    return int(data.split(b" ", 2)[1]), data
