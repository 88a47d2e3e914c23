"""API5:2023 Broken function level authorization — the authorization matrix.

tests/security/matrix.csv lists every public route × every role with the expected answer; this
walks the whole table through the gateway against real objects, and checks the table against
the gateway's merged OpenAPI so that a new route without a row fails."""

from __future__ import annotations

from tests.security.matrix import load_matrix, perform, verdict
from tests.security.world import ROLES, World

# Denied cells first: a refused call must not change anything, and an allowed one may (approve,
# close…), so the refusals are tried against the object in its original state.
_ORDER = {"401": 0, "404": 1, "403": 2, "allow": 3}


def test_matrix_covers_every_route_in_the_merged_openapi(world: World) -> None:
    spec = world.ok(world.gw.get("/api/v1/openapi.json"))
    documented = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "put", "patch", "delete")}
    rows = {row.key for row in load_matrix()}
    assert documented - rows == set(), f"routes without a row in matrix.csv: {sorted(documented - rows)}"
    assert rows - documented == set(), f"rows for routes that no longer exist: {sorted(rows - documented)}"
    assert len(documented) >= 70


def test_every_cell_of_the_matrix(world: World) -> None:
    for role in ROLES:  # one merchant key per role that may delete one
        world.ids[f"key_del:{role}"] = world.new_key().key_id
    world.ids["key_del"] = world.ids["key_del:admin"]
    mismatches = []
    cells = 0
    for row in load_matrix():
        for role in sorted(ROLES, key=lambda r: _ORDER[row.expect[r]]):
            resp = perform(row, world, role)
            cells += 1
            got = verdict(resp.status_code)
            if got != row.expect[role]:
                mismatches.append(f"{row.key} as {role}: expected {row.expect[role]}, got {resp.status_code} "
                                  f"{resp.text[:160]}")
            if resp.status_code in (401, 403, 404):
                # Refusals are problem+json with the contract's codes, never an HTML page.
                assert resp.headers["content-type"].startswith("application/problem+json"), row.key
    assert not mismatches, "\n".join(mismatches)
    assert cells == len(load_matrix()) * len(ROLES)
