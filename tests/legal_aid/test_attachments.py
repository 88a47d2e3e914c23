"""Attachments: recognised by their bytes, limited while streaming, served safely."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.legal_aid.attachments.upload import content_disposition, sanitise_filename
from services.legal_aid.config import LegalAidSettings
from tests.legal_aid.conftest import World

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 64
MIB = 1024 * 1024


def stored_files(settings: LegalAidSettings) -> list[Path]:
    root = settings.data_dir / "attachments"
    return [p for p in root.rglob("*") if p.is_file()]


async def upload(world: World, ticket_id: str, headers: dict[str, str], content: bytes,
                 filename: str = "file.pdf", declared: str = "application/pdf") -> httpx.Response:
    return await world.legal.post(f"/api/v1/legal/tickets/{ticket_id}/attachments", headers=headers,
                                  files={"file": (filename, content, declared)})


@pytest.fixture
async def case(world: World) -> dict[str, Any]:
    owner = world.user()
    t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
    return {"id": t["id"], "owner": owner}


class TestUpload:
    @pytest.mark.parametrize(("content", "name", "ctype", "final_name"), [
        (PDF, "劳动合同.pdf", "application/pdf", "劳动合同.pdf"),
        (PNG, "工资条.PNG", "image/png", "工资条.png"),
        (JPEG, "受伤照片.jpeg", "image/jpeg", "受伤照片.jpeg"),
        (JPEG, "IMG_0001", "image/jpeg", "IMG_0001.jpg"),
    ])
    async def test_roundtrip(self, world: World, case: dict, content: bytes, name: str, ctype: str,
                             final_name: str) -> None:
        resp = await upload(world, case["id"], case["owner"], content, name, "application/octet-stream")
        assert resp.status_code == 201, resp.text
        meta = resp.json()
        assert meta["content_type"] == ctype and meta["size"] == len(content) and meta["filename"] == final_name

        for headers in (case["owner"], world.staff["guangzhou"], world.admin):
            got = await world.legal.get(f"/api/v1/legal/attachments/{meta['id']}", headers=headers)
            assert got.status_code == 200
            assert got.content == content
            assert got.headers["content-type"] == ctype
            assert got.headers["x-content-type-options"] == "nosniff"
            assert got.headers["content-disposition"].startswith("attachment;")
            assert "filename*=UTF-8''" in got.headers["content-disposition"]
            assert int(got.headers["content-length"]) == len(content)

        listed = (await world.legal.get(f"/api/v1/legal/tickets/{case['id']}/attachments",
                                        headers=case["owner"])).json()["items"]
        assert [a["id"] for a in listed] == [meta["id"]]

    async def test_stored_under_a_random_name(self, world: World, case: dict, legal_settings: LegalAidSettings
                                              ) -> None:
        resp = await upload(world, case["id"], case["owner"], PDF, "张三的合同.pdf")
        assert resp.status_code == 201
        files = stored_files(legal_settings)
        assert len(files) == 1
        assert files[0].read_bytes() == PDF
        assert "张三" not in str(files[0]) and files[0].name != "张三的合同.pdf"
        assert len(files[0].name) == 32
        assert files[0].stat().st_mode & 0o077 == 0

    async def test_spoofed_types_are_refused(self, world: World, case: dict,
                                             legal_settings: LegalAidSettings) -> None:
        for content, name, declared in (
            (b"<html><script>alert(1)</script></html>", "contract.pdf", "application/pdf"),
            (b"MZ\x90\x00" + b"\x00" * 100, "photo.png", "image/png"),
            (b"GIF89a" + b"\x00" * 50, "photo.jpg", "image/jpeg"),
            (b"PK\x03\x04" + b"\x00" * 50, "scan.pdf", "application/pdf"),
            (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "x.png", "image/png"),
            (b" %PDF-1.4 leading space", "x.pdf", "application/pdf"),
            (b"%PD", "short.pdf", "application/pdf"),
            (b"", "empty.pdf", "application/pdf"),
        ):
            resp = await upload(world, case["id"], case["owner"], content, name, declared)
            assert resp.status_code == 415, name
            assert resp.json()["code"] == "unsupported_media_type"
        assert stored_files(legal_settings) == []
        assert list((legal_settings.data_dir / "attachments" / "tmp").iterdir()) == []

    async def test_exactly_ten_mib_is_accepted(self, world: World, case: dict) -> None:
        content = PDF + b"\x00" * (10 * MIB - len(PDF))
        resp = await upload(world, case["id"], case["owner"], content)
        assert resp.status_code == 201, resp.text
        assert resp.json()["size"] == 10 * MIB

    async def test_one_byte_more_is_too_large(self, world: World, case: dict,
                                              legal_settings: LegalAidSettings) -> None:
        content = PDF + b"\x00" * (10 * MIB + 1 - len(PDF))
        resp = await upload(world, case["id"], case["owner"], content)
        assert resp.status_code == 413
        assert resp.json()["code"] == "too_large"
        assert stored_files(legal_settings) == []
        listed = (await world.legal.get(f"/api/v1/legal/tickets/{case['id']}/attachments",
                                        headers=case["owner"])).json()["items"]
        assert listed == []

    async def test_huge_streamed_upload_is_cut_without_reading_it(self, world: World, case: dict,
                                                                  legal_settings: LegalAidSettings) -> None:
        """1 GiB announced by no Content-Length (chunked): the server stops after ~10 MiB."""
        sent = 0
        boundary = "xyzBOUNDARY"

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                   f"Content-Type: application/pdf\r\n\r\n").encode() + b"%PDF-1.7\n"
            chunk = b"\x00" * (256 * 1024)
            for _ in range(4 * 1024):   # 1 GiB
                sent += len(chunk)
                yield chunk

        resp = await world.legal.post(f"/api/v1/legal/tickets/{case['id']}/attachments", headers={
            **case["owner"], "content-type": f"multipart/form-data; boundary={boundary}"}, content=body())
        assert resp.status_code == 413
        assert resp.json()["code"] == "too_large"
        assert sent < 12 * MIB
        assert stored_files(legal_settings) == []

    async def test_declared_length_over_the_limit_is_refused_at_once(self, world: World, case: dict) -> None:
        resp = await world.legal.post(f"/api/v1/legal/tickets/{case['id']}/attachments",
                                      headers={**case["owner"], "content-type": "multipart/form-data; boundary=x",
                                               "content-length": str(1024 * MIB)}, content=b"")
        assert resp.status_code == 413

    async def test_not_multipart(self, world: World, case: dict) -> None:
        resp = await world.legal.post(f"/api/v1/legal/tickets/{case['id']}/attachments", headers=case["owner"],
                                      json={"file": "JVBERi0="})
        assert resp.status_code == 422
        resp = await world.legal.post(f"/api/v1/legal/tickets/{case['id']}/attachments", headers=case["owner"],
                                      files={"other": ("a.pdf", PDF, "application/pdf")})
        assert resp.status_code == 422

    async def test_who_may_upload_and_download(self, world: World, case: dict) -> None:
        resp = await upload(world, case["id"], world.user(), PDF)
        assert resp.status_code == 404
        resp = await upload(world, case["id"], world.staff["shenzhen"], PDF)
        assert resp.status_code == 404
        resp = await upload(world, case["id"], world.staff["guangzhou"], PDF, "回执.pdf")
        assert resp.status_code == 201
        att = resp.json()["id"]
        for headers in (world.user(), world.staff["shenzhen"], world.lawyer_headers("x", None)
                        if "x" in world.lawyers else world.tokens.headers(roles=["lawyer"])):
            assert (await world.legal.get(f"/api/v1/legal/attachments/{att}", headers=headers)).status_code == 404
        assert (await world.legal.get(f"/api/v1/legal/attachments/{att}")).status_code == 401
        assert (await world.legal.get("/api/v1/legal/attachments/" + "0" * 32,
                                      headers=world.admin)).status_code == 404

    async def test_no_uploads_after_the_end(self, world: World, case: dict) -> None:
        await world.act(case["id"], "reject", world.staff["guangzhou"], note="不予受理")
        resp = await upload(world, case["id"], case["owner"], PDF)
        assert resp.status_code == 409


class TestFilenames:
    @pytest.mark.parametrize(("raw", "ext", "accepted", "expected"), [
        ("../../etc/passwd", "pdf", ("pdf",), "passwd.pdf"),
        ("C:\\Users\\me\\合同.pdf", "pdf", ("pdf",), "合同.pdf"),
        ("evil.html", "pdf", ("pdf",), "evil.html.pdf"),
        ("photo\u202egnp.exe", "png", ("png",), "photognp.exe.png"),
        ('a"b;c\r\nd.pdf', "pdf", ("pdf",), "a_b_cd.pdf"),
        ("...", "pdf", ("pdf",), "attachment.pdf"),
        ("", "jpg", ("jpg", "jpeg"), "attachment.jpg"),
        (".pdf", "pdf", ("pdf",), "pdf.pdf"),
        ("x" * 500 + ".pdf", "pdf", ("pdf",), "x" * 116 + ".pdf"),
    ])
    def test_sanitise(self, raw: str, ext: str, accepted: tuple[str, ...], expected: str) -> None:
        assert sanitise_filename(raw, ext, accepted) == expected

    def test_content_disposition(self) -> None:
        value = content_disposition("劳动 合同(1).pdf")
        assert value == ("attachment; filename=\"______1_.pdf\"; "
                         "filename*=UTF-8''%E5%8A%B3%E5%8A%A8%20%E5%90%88%E5%90%8C%281%29.pdf")

    async def test_served_name_is_sanitised(self, world: World, case: dict) -> None:
        resp = await upload(world, case["id"], case["owner"], PNG, '../"x"\u202e.png', "image/png")
        assert resp.status_code == 201
        # httpx, like browsers (WHATWG), sends quotes in a multipart filename as %22; kept literally.
        assert resp.json()["filename"] == "%22x%22.png"
        got = await world.legal.get(f"/api/v1/legal/attachments/{resp.json()['id']}", headers=case["owner"])
        assert got.headers["content-disposition"] == (
            "attachment; filename=\"_22x_22.png\"; filename*=UTF-8''%2522x%2522.png")
