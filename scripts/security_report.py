"""`make security-report`: run the security suite (tests/security) and print a Markdown table,
OWASP API Security Top 10 (2023) risk → tests → passed / failed, for the README and
docs/security.md, with how many passed on each backend (a test runs against a SQLite stack and
a PostgreSQL + Redis stack; its id says which: `test_x[sqlite]`, `test_x[postgres-jobs]`).
Exits non-zero when a test failed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

RISKS = [
    ("test_api1_bola", "API1:2023 Broken object level authorization"),
    ("test_api2_broken_auth", "API2:2023 Broken authentication"),
    ("test_api3_property_level", "API3:2023 Broken object property level authorization"),
    ("test_api4_resource_consumption", "API4:2023 Unrestricted resource consumption"),
    ("test_api5_function_level", "API5:2023 Broken function level authorization (matrix.csv)"),
    ("test_api6_sensitive_flows", "API6:2023 Unrestricted access to sensitive business flows"),
    ("test_api7_ssrf", "API7:2023 Server side request forgery"),
    ("test_api8_misconfiguration", "API8:2023 Security misconfiguration"),
    ("test_api9_inventory", "API9:2023 Improper inventory management"),
    ("test_api10_unsafe_consumption", "API10:2023 Unsafe consumption of APIs"),
    ("test_fuzz", "schemathesis (every service + gateway)"),
    ("test_faults", "Faults (kill -9, hang, database cut)"),
    ("test_faults_inprocess", "Faults (hanging event subscriber, restarted upstream)"),
    ("test_faults_redis", "Faults (Redis unavailable under load)"),
    ("test_pii", "Personal data at rest and in answers"),
]


def run(junit: Path, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "tests/security", "-q", "-p", "no:cacheprovider",
           f"--junitxml={junit}", *extra]
    return subprocess.call(cmd)  # noqa: S603 (our own interpreter and arguments)


BACKENDS = ("sqlite", "postgres")
KEYS = ("tests", "passed", "failed", "skipped", *(f"{b}_{k}" for b in BACKENDS for k in ("tests", "passed")))


def backend_of(test_name: str) -> str | None:
    """`test_x[postgres-jobs]` → postgres; None for a test that runs once, on no stack."""
    params = test_name.partition("[")[2].rstrip("]").split("-")
    return next((b for b in BACKENDS if b in params), None)


def table(junit: Path) -> tuple[str, int]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KEYS, 0))
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 (pytest wrote it just now)
        parts = case.get("classname", "").split(".")
        name = next((m for m in parts if m.startswith("test_")), "?")
        c = counts[name]
        c["tests"] += 1
        backend = backend_of(case.get("name", ""))
        if backend:
            c[f"{backend}_tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            c["failed"] += 1
        elif case.find("skipped") is not None:
            c["skipped"] += 1
        else:
            c["passed"] += 1
            if backend:
                c[f"{backend}_passed"] += 1
    lines = ["| risk | module | tests | passed | failed | skipped | SQLite | PostgreSQL |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    total = dict.fromkeys(KEYS, 0)

    def row(risk: str, module: str, c: dict[str, int]) -> str:
        for key in KEYS:
            total[key] += c[key]
        per_backend = " | ".join(f"{c[f'{b}_passed']}/{c[f'{b}_tests']}" if c[f"{b}_tests"] else "—"
                                 for b in BACKENDS)
        return (f"| {risk} | `{module}` | {c['tests']} | {c['passed']} | {c['failed']} | {c['skipped']} "
                f"| {per_backend} |")

    for module, risk in RISKS:
        lines.append(row(risk, f"tests/security/{module}.py", counts.pop(module, dict.fromkeys(KEYS, 0))))
    for module, c in counts.items():
        lines.append(row("(other)", module, c))
    lines.append(f"\n{total['tests']} tests, {total['failed']} failed, {total['skipped']} skipped; passed on SQLite "
                 f"{total['sqlite_passed']}/{total['sqlite_tests']}, on PostgreSQL {total['postgres_passed']}/"
                 f"{total['postgres_tests']} (SQLite / PostgreSQL columns: passed / tests on that backend; tests "
                 f"that need neither run once).")
    return "\n".join(lines), total["failed"]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "security.xml"
        code = run(junit, argv)
        if not junit.exists():
            return code or 1
        text, failed = table(junit)
    print()
    print(text)
    return 1 if failed or code not in (0, 5) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
