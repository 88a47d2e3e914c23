from __future__ import annotations

from tests.membership.conftest import World, id_number


class TestApply:
    async def test_pending_and_masked(self, world: World) -> None:
        number = id_number(77)
        resp = await world.apply(world.user(), real_name="欧阳娜娜", id_number=number)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["status"] == "pending" and body["org_id"] == world.orgs["gz_metro"]
        assert body["real_name_masked"] == "欧阳**"
        assert body["id_number_masked"] == number[:6] + "********" + number[-4:]
        assert body["employer_name"] == "广州地铁集团有限公司" 
        from datetime import datetime

        assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None  # RFC 3339 with offset
        assert number not in resp.text and "欧阳娜娜" not in resp.text

    async def test_lowercase_x_is_stored_upper(self, world: World) -> None:
        resp = await world.apply(world.user(), id_number="11010519491231002x")
        assert resp.status_code == 201
        assert resp.json()["id_number_masked"] == "110105********002X"
        # The same person again, written with "X": recognised as the same ID number.
        staff = world.staff["guangzhou"]
        await world.client.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve", headers=staff)
        again = await world.apply(world.user(), id_number="11010519491231002X")
        assert again.status_code == 409 and again.json()["code"] == "already_member"

    async def test_invalid_id_numbers(self, world: World) -> None:
        good = id_number(5)
        wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
        future = "44010620991231123"
        bad_date = "44010619900230123"
        for bad in (wrong_check, future + "0", bad_date + "0", "123", good + "1"):
            resp = await world.apply(world.user(), id_number=bad)
            assert resp.status_code == 422 and resp.json()["code"] == "invalid_id_number", bad
            assert bad not in resp.text

    async def test_names(self, world: World) -> None:
        assert (await world.apply(world.user(), real_name="买买提·艾力")).status_code == 201
        for bad in ("John", "张", "张3", "·张三"):
            resp = await world.apply(world.user(), real_name=bad)
            assert resp.status_code == 422 and resp.json()["code"] == "invalid_real_name", bad

    async def test_missing_fields_and_unknown_org(self, world: World) -> None:
        resp = await world.client.post("/api/v1/membership/applications", json={"real_name": "张三"},
                                       headers=world.user())
        assert resp.status_code == 422 and resp.json()["code"] == "validation_error"
        resp = await world.apply(world.user(), org_id="nope")  # type: ignore[call-arg]
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"
        resp = await world.apply(world.user(), employer_name="  ")
        assert resp.status_code == 422

    async def test_phone_required(self, world: World) -> None:
        resp = await world.apply(world.user(phone_masked=None))
        assert resp.status_code == 409 and resp.json()["code"] == "phone_required"

    async def test_one_pending_per_account(self, world: World) -> None:
        headers = world.user()
        assert (await world.apply(headers)).status_code == 201
        resp = await world.apply(headers, org="gz_airport")
        assert resp.status_code == 409 and resp.json()["code"] == "application_pending"

    async def test_one_member_per_id_number(self, world: World) -> None:
        number = id_number(901)
        _, _ = await world.member(id_number=number)
        resp = await world.apply(world.user(), id_number=number)
        assert resp.status_code == 409 and resp.json()["code"] == "already_member"

    async def test_member_cannot_apply_again(self, world: World) -> None:
        headers, _ = await world.member()
        resp = await world.apply(headers)
        assert resp.status_code == 409 and resp.json()["code"] == "already_member"

    async def test_unauthenticated(self, world: World) -> None:
        resp = await world.client.post("/api/v1/membership/applications", json={})
        assert resp.status_code == 401


class TestDecide:
    async def test_approve_creates_member_and_card(self, world: World) -> None:
        headers, app = await world.member()
        assert app["status"] == "approved" and app["member_id"]
        me = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        assert me["member_id"] == app["member_id"] and me["status"] == "active"
        assert me["org_id"] == world.orgs["gz_metro"] and me["org_name"] == "广州地铁集团工会"
        assert me["real_name_masked"] == "张**" and me["id_number_masked"] == app["id_number_masked"]
        from services.membership.members.cards import luhn_valid

        assert luhn_valid(me["card"]["card_no"]) and me["card"]["status"] == "active"

    async def test_approving_twice_is_409(self, world: World) -> None:
        headers = world.user()
        app = (await world.apply(headers)).json()
        staff = world.staff["guangzhou"]
        assert (await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve",
                                        headers=staff)).status_code == 200
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=staff)
        assert resp.status_code == 409 and resp.json()["code"] == "application_not_pending"
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/reject",
                                       json={"reason": "x"}, headers=staff)
        assert resp.status_code == 409

    async def test_two_applications_same_person_second_approval_409(self, world: World) -> None:
        number = id_number(333)
        a = (await world.apply(world.user(), id_number=number)).json()
        b = (await world.apply(world.user(), id_number=number)).json()
        staff = world.staff["guangzhou"]
        assert (await world.client.post(f"/api/v1/membership/applications/{a['id']}/approve",
                                        headers=staff)).status_code == 200
        resp = await world.client.post(f"/api/v1/membership/applications/{b['id']}/approve", headers=staff)
        assert resp.status_code == 409 and resp.json()["code"] == "already_member"

    async def test_reject_needs_reason_then_apply_again(self, world: World) -> None:
        headers = world.user()
        app = (await world.apply(headers)).json()
        staff = world.staff["gz_metro"]
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/reject", json={},
                                       headers=staff)
        assert resp.status_code == 422
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/reject",
                                       json={"reason": "  "}, headers=staff)
        assert resp.status_code == 422
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/reject",
                                       json={"reason": "工作单位信息不符"}, headers=staff)
        assert resp.status_code == 200
        assert resp.json()["status"] == "rejected" and resp.json()["reason"] == "工作单位信息不符"
        again = await world.apply(headers)
        assert again.status_code == 201

    async def test_users_cannot_decide(self, world: World) -> None:
        headers = world.user()
        app = (await world.apply(headers)).json()
        for h in (headers, world.user()):
            resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=h)
            assert resp.status_code == 403

    async def test_admin_decides_anywhere(self, world: World) -> None:
        app = (await world.apply(world.user(), org="sz_port")).json()
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=world.admin)
        assert resp.status_code == 200


class TestRead:
    async def test_owner_sees_own_only(self, world: World) -> None:
        mine, other = world.user(), world.user()
        app = (await world.apply(mine)).json()
        await world.apply(other)
        listed = (await world.client.get("/api/v1/membership/applications", headers=mine)).json()
        assert [a["id"] for a in listed["items"]] == [app["id"]]
        assert (await world.client.get(f"/api/v1/membership/applications/{app['id']}", headers=mine)).status_code == 200
        resp = await world.client.get(f"/api/v1/membership/applications/{app['id']}", headers=other)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"

    async def test_staff_list_subtree_with_status_filter(self, world: World) -> None:
        gz = (await world.apply(world.user(), org="gz_airport")).json()
        sz = (await world.apply(world.user(), org="sz_port")).json()
        _, approved = await world.member()
        gz_list = (await world.client.get("/api/v1/membership/applications", headers=world.staff["guangzhou"])).json()
        assert {a["id"] for a in gz_list["items"]} == {gz["id"], approved["id"]}
        pending = (await world.client.get("/api/v1/membership/applications", params={"status": "pending"},
                                          headers=world.staff["guangzhou"])).json()
        assert [a["id"] for a in pending["items"]] == [gz["id"]]
        prov = (await world.client.get("/api/v1/membership/applications", headers=world.staff["guangdong"])).json()
        assert {a["id"] for a in prov["items"]} == {gz["id"], sz["id"], approved["id"]}
        resp = await world.client.get("/api/v1/membership/applications", params={"status": "bogus"},
                                      headers=world.staff["guangdong"])
        assert resp.status_code == 422

    async def test_pagination(self, world: World) -> None:
        ids = [(await world.apply(world.user())).json()["id"] for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await world.client.get("/api/v1/membership/applications", params=params,
                                           headers=world.staff["gz_metro"])).json()
            seen += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(ids))
        resp = await world.client.get("/api/v1/membership/applications", params={"cursor": "%%%"},
                                      headers=world.staff["gz_metro"])
        assert resp.status_code == 422
