"""schemathesis over a running stack: every operation of every service's own OpenAPI (straight
to the service) and of the gateway's merged one, with generated valid and invalid inputs.
Per answer: no 5xx (through the gateway 503/504 are its own, documented answers), the body
matches the documented schema, and every error is application/problem+json.

`make test` runs a small bounded profile (FUZZ_EXAMPLES, default 4 per operation and role);
`make fuzz` runs a long one (FUZZ_EXAMPLES=60). Shrinking is off: a failure is reported with
the request that caused it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

# Operations that would end the identity the fuzzer runs as, or that only wait on a third party.
EXCLUDED = {"DELETE /api/v1/me", "POST /api/v1/auth/logout", "POST /api/v1/auth/wechat/login",
            "POST /api/v1/auth/wechat/phone"}


def examples() -> int:
    return int(os.environ.get("FUZZ_EXAMPLES", "4"))


@dataclass
class Report:
    operations: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(spec: dict[str, Any], base_url: str, headers: dict[str, str], *, gateway: bool,
         report: Report, max_examples: int | None = None) -> Report:
    schema = schemathesis.openapi.from_dict(spec)
    session = requests.Session()
    for result in schema.get_all_operations():
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        if label in EXCLUDED:
            continue
        report.operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _run(op, mode, label, base_url, headers, gateway, report, session, max_examples or examples())
    return report


def _run(op: Any, mode: Any, label: str, base_url: str, headers: dict[str, str], gateway: bool,
         report: Report, session: requests.Session, max_examples: int) -> None:
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        # A case may carry its own (generated) Authorization: keep it; otherwise act as the role.
        case_headers = {**headers, **(case.headers or {})}
        try:
            resp = case.call(base_url=base_url, session=session, headers=case_headers, timeout=30)
        except requests.RequestException as exc:
            report.failures.append(f"{label}: transport error {type(exc).__name__}")
            return
        report.calls += 1
        status = resp.status_code
        ctype = resp.headers.get("content-type") or resp.headers.get("Content-Type") or [""]
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        text = resp.content[:200].decode("utf-8", "replace")
        allowed_5xx = {503, 504} if gateway else set()
        if status >= 500 and status not in allowed_5xx:
            report.failures.append(f"{label}: {status} for {case.method} {resp.request.url} {text}")
            return
        if status >= 400 and not ctype.startswith("application/problem+json"):
            report.failures.append(f"{label}: {status} without problem+json ({ctype}) {text}")
            return
        if status == 429:
            return  # limits are documented per the gateway; the body is still a Problem
        try:
            case.validate_response(resp, checks=[response_schema_conformance, content_type_conformance])
        except AssertionError as exc:
            report.failures.append(f"{label}: {status} does not match the schema: {str(exc)[:300]}")
        except Exception as exc:  # schemathesis raises its own failure groups
            report.failures.append(f"{label}: {status} does not match the schema: {str(exc)[:300]}")

    try:
        run()
    except Unsatisfiable:
        pass  # no invalid input exists for this operation (e.g. no parameters and no body)
