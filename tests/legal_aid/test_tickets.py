"""Creating tickets, who sees them (everyone else: 404), and listing."""

from __future__ import annotations

from tests.legal_aid.conftest import World, ticket_body


class TestCreate:
    async def test_member_ticket_defaults_to_own_union(self, world: World) -> None:
        member = await world.member("gz_metro")
        t = await world.ticket(member)
        assert t["status"] == "submitted"
        assert t["org_id"] == world.orgs["gz_metro"]
        assert t["title"] == "工地拖欠三个月工资"
        assert t["employer_name"] == "某某建设工程有限公司"
        assert t["amount_involved_fen"] == 2_400_000
        assert t["assignee_id"] is None and t["overdue"] is False and t["message_count"] == 0
        assert t["first_response_due_at"] > t["created_at"]

    async def test_member_may_ask_another_union(self, world: World) -> None:
        member = await world.member("gz_metro")
        t = await world.ticket(member, org_id=world.orgs["sz_port"])
        assert t["org_id"] == world.orgs["sz_port"]

    async def test_non_member_must_name_a_union(self, world: World) -> None:
        resp = await world.legal.post("/api/v1/legal/tickets", json=ticket_body(), headers=world.user())
        assert resp.status_code == 422
        assert resp.json()["code"] == "org_required"
        t = await world.ticket(world.user(), org_id=world.orgs["shenzhen"])
        assert t["org_id"] == world.orgs["shenzhen"]

    async def test_unknown_org(self, world: World) -> None:
        resp = await world.legal.post("/api/v1/legal/tickets", json=ticket_body(org_id="0" * 32),
                                      headers=world.user())
        assert resp.status_code == 422
        assert resp.json()["code"] == "invalid_org"

    async def test_invalid_body(self, world: World) -> None:
        for overrides in ({"category": "fraud"}, {"title": ""}, {"title": "   "}, {"description": ""},
                          {"amount_involved_fen": -1}, {"title": "x" * 201}, {"unexpected": 1}):
            resp = await world.legal.post("/api/v1/legal/tickets", headers=world.user(),
                                          json=ticket_body(org_id=world.orgs["gz_metro"], **overrides))
            assert resp.status_code == 422, overrides
            assert resp.json()["code"] == "validation_error"
        resp = await world.legal.post("/api/v1/legal/tickets", headers=world.user(), content=b"{not json",
                                      )
        assert resp.status_code in (400, 422)
        assert (await world.legal.get("/api/v1/legal/tickets", headers=world.admin)).json()["items"] == []

    async def test_optional_fields(self, world: World) -> None:
        t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"], employer_name=None,
                               amount_involved_fen=None, category="work_injury")
        assert t["employer_name"] is None and t["amount_involved_fen"] is None
        assert t["category"] == "work_injury"

    async def test_requires_a_token(self, world: World) -> None:
        resp = await world.legal.post("/api/v1/legal/tickets", json=ticket_body())
        assert resp.status_code == 401
        assert resp.json()["code"] == "unauthenticated"

    async def test_case_text_is_encrypted_at_rest(self, world: World) -> None:
        from sqlalchemy import text

        t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
        async with world.legal_app.state.db.engine.connect() as conn:
            row = (await conn.execute(text("SELECT title_enc, description_enc, employer_name_enc FROM tickets "
                                           "WHERE id = :id"), {"id": t["id"]})).one()
        assert all(value and "工" not in value and "某某" not in value for value in row)


class TestVisibility:
    async def test_each_role(self, world: World) -> None:
        member = await world.member("gz_metro")
        t = await world.ticket(member)
        lawyer = await world.lawyer("gz", "guangzhou")
        other_lawyer = await world.lawyer("gz2", "guangzhou")
        assert (await world.assign(t["id"], "gz")).status_code == 200

        allowed = {
            "owner": member, "assignee": lawyer, "staff of the org": world.staff["gz_metro"],
            "staff of the city": world.staff["guangzhou"], "staff of the province": world.staff["guangdong"],
            "admin": world.admin,
        }
        denied = {
            "another user": world.user(), "staff of another city": world.staff["shenzhen"],
            "unassigned lawyer of the same city": other_lawyer,
            "staff without an org": world.tokens.headers(roles=["staff"], phone_masked=None),
            "employer": world.tokens.headers(roles=["employer"], phone_masked=None),
        }
        for who, headers in allowed.items():
            resp = await world.get(t["id"], headers)
            assert resp.status_code == 200, who
            assert resp.json()["id"] == t["id"]
        for who, headers in denied.items():
            for path in ("", "/messages", "/attachments"):
                resp = await world.legal.get(f"/api/v1/legal/tickets/{t['id']}{path}", headers=headers)
                assert resp.status_code == 404, (who, path)
                assert resp.json()["code"] == "not_found"
            resp = await world.say(t["id"], headers)
            assert resp.status_code == 404, who
            resp = await world.act(t["id"], "accept", headers)
            assert resp.status_code == 404, who

    async def test_unknown_ticket_is_404(self, world: World) -> None:
        resp = await world.get("0" * 32, world.admin)
        assert resp.status_code == 404


class TestListing:
    async def test_each_role_lists_what_it_may_see(self, world: World) -> None:
        member = await world.member("gz_metro")
        mine = await world.ticket(member)
        other = await world.ticket(world.user(), org_id=world.orgs["sz_port"])
        city = await world.ticket(world.user(), org_id=world.orgs["guangzhou"])
        await world.lawyer("gz", "guangzhou")
        lawyer = await world.lawyer("gz_other", "guangzhou")
        assert (await world.assign(city["id"], "gz_other")).status_code == 200

        async def ids(headers: dict[str, str], query: str = "") -> set[str]:
            resp = await world.legal.get(f"/api/v1/legal/tickets{query}", headers=headers)
            assert resp.status_code == 200, resp.text
            return {item["id"] for item in resp.json()["items"]}

        assert await ids(member) == {mine["id"]}
        assert await ids(lawyer) == {city["id"]}
        assert await ids(world.staff["guangzhou"]) == {mine["id"], city["id"]}
        assert await ids(world.staff["gz_metro"]) == {mine["id"]}
        assert await ids(world.staff["shenzhen"]) == {other["id"]}
        assert await ids(world.staff["guangdong"]) == {mine["id"], other["id"], city["id"]}
        assert await ids(world.admin) == {mine["id"], other["id"], city["id"]}
        assert await ids(world.user()) == set()
        assert await ids(world.lawyer_headers("gz", "guangzhou")) == set()

    async def test_status_filter_and_pagination(self, world: World) -> None:
        owner = world.user()
        created = [await world.ticket(owner, org_id=world.orgs["gz_metro"]) for _ in range(5)]
        staff = world.staff["guangzhou"]
        for t in created[:2]:
            assert (await world.act(t["id"], "accept", staff)).status_code == 200

        resp = await world.legal.get("/api/v1/legal/tickets?status=accepted", headers=owner)
        assert {i["id"] for i in resp.json()["items"]} == {t["id"] for t in created[:2]}
        assert all(i["status"] == "accepted" for i in resp.json()["items"])

        seen: list[str] = []
        cursor = None
        while True:
            query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = (await world.legal.get(f"/api/v1/legal/tickets{query}", headers=owner)).json()
            assert len(page["items"]) <= 2
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [t["id"] for t in reversed(created)]  # newest first, no gaps or repeats

    async def test_bad_query(self, world: World) -> None:
        for query in ("?status=open", "?limit=0", "?limit=101", "?cursor=%%%", "?sort=oldest", "?overdue=maybe",
                      "?sort=due&cursor=WyJ4Il0", "?cursor=WyJ4IiwieSJd", "?sort=due&cursor=WyJ4IiwieSJd"):
            resp = await world.legal.get(f"/api/v1/legal/tickets{query}", headers=world.admin)
            assert resp.status_code == 422, query
            assert resp.json()["code"] in ("validation_error", "invalid_cursor")
