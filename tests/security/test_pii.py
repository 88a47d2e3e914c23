"""Personal data: after the whole flow (accounts, applications with ID numbers, members, tickets,
attachments, redemptions, job applications), no ID number and no phone used appears in plaintext
in any database file (WAL included), attachment store or log of the stack, and every answer
masks them."""

from __future__ import annotations

from pathlib import Path

from tests.security.world import World


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "keys"]


def test_no_plaintext_id_numbers_or_phones_at_rest(world: World) -> None:
    # One more round of the flow right before the scan, so its writes are in the WAL files too.
    headers, _, _ = world.new_member()
    world.ok(world.gw.post("/api/v1/legal/tickets", headers=headers, json=world.ticket_body()), 201)
    world.ok(world.gw.post(f"/api/v1/jobs/{world.ids['job']}/applications", headers=headers,
                           json={"message": "应聘"}), 201)
    secrets_used = sorted({*world.phones_used, *world.id_numbers_used})
    assert len(world.id_numbers_used) >= 5 and len(world.phones_used) >= 5
    files = _files(world.stack.data_dir)
    kinds = {p.suffix for p in files}
    assert {".db", ".log"} <= kinds and any("attachments" in p.parts for p in files), kinds
    found = []
    for path in files:
        data = path.read_bytes()
        for value in secrets_used:
            for encoded in (value.encode(), value.encode("utf-16-le")):
                if encoded in data:
                    found.append(f"{path.relative_to(world.stack.data_dir)}: {value[:3]}…")
    assert not found, found


def test_every_answer_masks_them(world: World) -> None:
    leaks = [line for line, text in world.answers for value in (*world.phones_used, *world.id_numbers_used)
             if value in text]
    assert not leaks, leaks[:10]
    assert len(world.answers) > 40
