"""The test servers' own set-up: SeaweedFS's ports."""
from __future__ import annotations

import pytest

from tests import servers


def test_no_seaweedfs_port_is_another_ones_grpc_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operating system may hand out p and then p + 10000 (seen in CI: one service on
    45267, the filer on 55267); ``weed mini`` refuses such ports and every S3 test errors."""
    offered = iter([21017, 31017, 21017, 21018, 31018, 21019])
    monkeypatch.setattr(servers, "free_port", lambda: next(offered))
    ports = servers.free_port_pairs(3)
    grpc = {p + servers.GRPC_OFFSET for p in ports}
    assert len(set(ports)) == 3
    assert not grpc & set(ports)
    assert ports == [21017, 21018, 21019]
