"""API fuzzing (issue 15 item 12): schemathesis against /openapi.json as each role, on
both stacks, bounded in examples and time. Every answer must be below 500 and match the
schema (documented bodies and content types).

The figures (requests per role, 5xx count) are printed for the report and kept in
``FIGURES``."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import Env
from tests.factories import make_pdf, upload, world

ROLES = {"officer": "off1", "auditor": "aud1", "records_manager": "rm1", "admin": "admin"}
EXAMPLES = 3            # per operation and role
BUDGET_SECONDS = 60     # per stack; operations past it are not fuzzed (reported)
FIGURES: dict[str, dict[str, Any]] = {}


def test_api_fuzzing_as_each_role(env: Env, capsys: pytest.CaptureFixture[str]):
    tokens = world(env)
    upload(env.client(tokens["off1"]), make_pdf("fuzz-record"))
    app = env.app()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    figures: dict[str, Any] = {}
    started = time.monotonic()
    skipped = 0
    for role, user in ROLES.items():
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        seen = {"requests": 0, "5xx": 0}
        for operation in operations:
            if time.monotonic() - started > BUDGET_SECONDS:
                skipped += 1
                continue
            _fuzz(operation, role, headers, seen, failures)
        figures[role] = seen
    figures["operations"] = len(operations)
    figures["not_fuzzed_for_time"] = skipped
    figures["seconds"] = round(time.monotonic() - started, 1)
    FIGURES[env.stack] = figures
    with capsys.disabled():
        print(f"\nschemathesis {env.stack}: {figures}")
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} problems:\n" + "\n".join(unique[:40])
    assert skipped == 0, f"{skipped} operation×role runs did not fit in {BUDGET_SECONDS} s"


def _fuzz(operation: Any, role: str, headers: dict[str, str], seen: dict[str, int],
          failures: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        seen["requests"] += 1
        if response.status_code >= 500:
            seen["5xx"] += 1
            failures.append(f"{role} {operation.label}: {response.status_code} "
                            f"{response.text[:200]} ({case.as_curl_command()[:300]})")
            return
        try:
            case.validate_response(response, checks=[response_schema_conformance,
                                                     content_type_conformance],
                                   headers=headers)
        except BaseException as exc:  # noqa: BLE001 - collected, reported below
            failures.append(f"{role} {operation.label}: {str(exc)[:400]}")

    run()
