"""Identifiers: time-ordered UUIDs (RFC 9562 version 7) for records.

Time order keeps B-tree inserts local and gives a stable tie-breaker for keyset pagination;
the random tail keeps ids unguessable.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """48-bit Unix milliseconds, version 7, 12 random bits, variant 0b10, 62 random bits."""
    ms = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
