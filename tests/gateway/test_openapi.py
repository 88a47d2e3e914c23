"""One OpenAPI document: the services' public paths merged, components without collisions, the
gateway's own operations and both ways to authenticate; Swagger UI off in production."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.config import GatewaySettings
from gateway.openapi import merge
from tests.gateway.conftest import GatewayMaker
from tests.gateway.upstream import fake_upstream


def _doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}}


def _op(ref: str, op_id: str = "op") -> dict[str, Any]:
    return {"get": {"operationId": op_id, "responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}}}}


SHARED = {"type": "object", "properties": {"detail": {"type": "string"}}}


def test_merge_keeps_public_paths_and_renames_colliding_components() -> None:
    identity = _doc({"/api/v1/me": _op("Item", "me"), "/internal/revocations": _op("Item", "rev")},
                    {"Item": {"type": "object", "properties": {"id": {"type": "string"}}}, "Shared": SHARED})
    jobs = _doc({"/api/v1/jobs": _op("Item", "me"), "/healthz": _op("Shared", "h")},
                {"Item": {"type": "object", "properties": {"title": {"type": "string"}},
                          "additionalProperties": {"$ref": "#/components/schemas/Item"}},
                 "Shared": SHARED})
    doc = merge({"identity": identity, "jobs": jobs})
    assert set(doc["paths"]) == {"/api/v1/me", "/api/v1/jobs", "/api/v1/home", "/api/v1/health/{service}"}
    schemas = doc["components"]["schemas"]
    assert schemas["Item"]["properties"] == {"id": {"type": "string"}}
    assert schemas["jobs_Item"]["properties"] == {"title": {"type": "string"}}
    assert schemas["jobs_Item"]["additionalProperties"]["$ref"] == "#/components/schemas/jobs_Item"
    assert "jobs_Shared" not in schemas and schemas["Shared"] == SHARED
    jobs_ref = doc["paths"]["/api/v1/jobs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert jobs_ref == {"$ref": "#/components/schemas/jobs_Item"}
    op_ids = [doc["paths"][p]["get"]["operationId"] for p in ("/api/v1/me", "/api/v1/jobs")]
    assert op_ids == ["me", "jobs_me"]
    assert doc["paths"]["/api/v1/jobs"]["get"]["tags"] == ["jobs"]
    # Every $ref resolves.
    text = orjson.dumps(doc).decode()
    for ref in {part.split('"')[0] for part in text.split('"$ref":"#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_merchant_paths_use_the_signature_scheme() -> None:
    benefits = _doc({"/api/v1/merchant/verify": {"post": {"operationId": "verify", "responses": {}}}}, {})
    doc = merge({"benefits": benefits}, missing=["jobs"])
    op = doc["paths"]["/api/v1/merchant/verify"]["post"]
    assert op["security"] == [{"merchantSignature": []}]
    assert "429" in op["responses"]
    scheme = doc["components"]["securitySchemes"]["merchantSignature"]
    assert scheme["name"] == "X-Merchant-Key" and "HMAC-SHA256" in scheme["description"]
    assert "X-Nonce" in scheme["description"] and "timestamp_skew" in scheme["description"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["x-unavailable-services"] == ["jobs"]


async def test_gateway_serves_the_document_and_retries_a_missing_service(make_gateway: GatewayMaker) -> None:
    async with fake_upstream() as up, make_gateway() as (gw, client):  # every upstream down
        resp = await client.get("/api/v1/openapi.json")
        assert resp.status_code == 200
        doc = resp.json()
        assert "/api/v1/home" in doc["paths"]
        assert doc["x-unavailable-services"] == ["benefits", "identity", "jobs", "legal_aid", "membership"]
        # jobs comes back: the next request (after the short back-off) fetches it again.
        assert gw.openapi is not None
        gw.openapi._upstreams["jobs"] = up.url
        gw.openapi._retry_at.clear()
        doc = (await client.get("/api/v1/openapi.json")).json()
        assert doc["x-unavailable-services"] == ["benefits", "identity", "legal_aid", "membership"]
        assert up.hits == [("GET", "/openapi.json")]


async def test_swagger_ui_on_in_development_off_in_production(make_gateway: GatewayMaker) -> None:
    async with make_gateway() as (_, client):
        page = await client.get("/api/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text and "/api/v1/openapi.json" in page.text
    async with make_gateway(env="production", internal_secret="x" * 40, pii_keys="k:x") as (_, client):
        assert (await client.get("/api/docs")).status_code == 404
    async with make_gateway(env="production", internal_secret="x" * 40, pii_keys="k:x",
                            docs_enabled=True) as (_, client):
        assert (await client.get("/api/docs")).status_code == 200


def test_middleware_cannot_be_switched_off_in_production() -> None:
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        GatewaySettings(env="production", internal_secret="x" * 40, pii_keys="k:x", middleware_enabled=False)
