"""One OpenAPI document for the whole public API, merged from the services' own /openapi.json.

- Only public paths (under /api/v1) are kept; /internal and operational routes never appear.
- Component schemas that are the same in two services are kept once; a name that means different
  things in two services is renamed `<service>_<Name>` in the second one (its $refs rewritten).
- Each service's document is cached for `ttl` seconds. A service that does not answer keeps its
  last good copy; one never fetched is retried on the next request (no negative caching), and
  the document lists it under `x-unavailable-services` meanwhile.
- The gateway adds its own operations (/home, /health/{service}) and the two ways to
  authenticate: bearer access tokens and the merchant API's HMAC signature.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import aiohttp
import orjson

REF_PREFIX = "#/components/schemas/"

MERCHANT_SIGNING = """\
Merchant POS systems authenticate every call to `/api/v1/merchant/*` by signature, not by token.
Send four headers:

| header | value |
| --- | --- |
| `X-Merchant-Key` | the `key_id` from `POST /api/v1/benefits/merchants/{id}/credentials` |
| `X-Timestamp` | unix seconds; more than 300 s away from the server's clock → 401 `timestamp_skew` |
| `X-Nonce` | 16–64 characters, never reused with this key → 401 `nonce_reused` |
| `X-Signature` | `base64(HMAC-SHA256(secret, string_to_sign))` |

`string_to_sign = METHOD + "\\n" + PATH_AND_QUERY + "\\n" + TIMESTAMP + "\\n" + NONCE + "\\n" +
SHA256_HEX(BODY) + "\\n"` — METHOD upper case, PATH_AND_QUERY exactly as sent (e.g.
`/api/v1/merchant/redemptions?limit=20`), SHA256_HEX of the raw body bytes (of the empty string
for GET). Errors: 401 `unknown_merchant_key`, `signature_invalid`, `timestamp_skew`, `nonce_reused`.

Python:

```python
body = json.dumps({"qr_token": token}).encode()
ts, nonce = str(int(time.time())), secrets.token_hex(16)
msg = f"POST\\n/api/v1/merchant/verify\\n{ts}\\n{nonce}\\n{hashlib.sha256(body).hexdigest()}\\n"
sig = base64.b64encode(hmac.new(secret.encode(), msg.encode(), hashlib.sha256).digest()).decode()
```
"""

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "Access token from the /api/v1/auth/* logins (15 minutes; renew with "
                                  "POST /api/v1/auth/refresh)."},
    "merchantSignature": {"type": "apiKey", "in": "header", "name": "X-Merchant-Key",
                          "description": MERCHANT_SIGNING},
}

PROBLEM = {"description": "Error (RFC 9457 problem+json)",
           "content": {"application/problem+json": {"schema": {"$ref": REF_PREFIX + "Problem"}}}}

GATEWAY_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object", "title": "Problem",
        "required": ["type", "title", "status", "detail", "code", "request_id"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "code": {"type": "string"}, "request_id": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "loc": {"type": "array", "items": {"type": "string"}}, "msg": {"type": "string"}}}},
        },
    },
    "HomeRead": {
        "type": "object", "title": "HomeRead",
        "required": ["member", "open_tickets", "offers", "jobs", "degraded"],
        "properties": {
            "member": {"anyOf": [{"type": "object"}, {"type": "null"}],
                       "description": "as GET /api/v1/membership/me, null for a non-member"},
            "open_tickets": {"type": "integer", "description": "own legal-aid tickets not yet resolved"},
            "offers": {"type": "array", "maxItems": 5, "items": {"type": "object"}},
            "jobs": {"type": "array", "maxItems": 5, "items": {"type": "object"}},
            "degraded": {"type": "array", "items": {"type": "string",
                                                    "enum": ["membership", "legal_aid", "benefits", "jobs"]},
                         "description": "services that failed or took longer than 1 s; their part is empty"},
        },
    },
}

GATEWAY_PATHS: dict[str, Any] = {
    "/api/v1/home": {"get": {
        "tags": ["home"], "summary": "The app's first screen in one call",
        "description": "Fans out to membership, legal aid, benefits and jobs concurrently with a 1 s budget "
                       "per part. A part that fails or is late is empty and named in `degraded`; the answer "
                       "is still 200.",
        "operationId": "home_api_v1_home_get", "security": [{"bearerAuth": []}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": REF_PREFIX + "HomeRead"}}}}, "401": PROBLEM, "429": PROBLEM}}},
    "/api/v1/health/{service}": {"get": {
        "tags": ["health"], "summary": "Is one service alive (through the gateway)",
        "operationId": "service_health_api_v1_health__service__get", "security": [],
        "parameters": [{"name": "service", "in": "path", "required": True, "schema": {
            "type": "string", "enum": ["identity", "membership", "benefits", "legal_aid", "jobs"]}}],
        "responses": {"200": {"description": "alive", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"status": {"type": "string"}}}}}},
            "503": PROBLEM, "504": PROBLEM}}},
}

DESCRIPTION = """\
The public API of Smart Union (智慧工会), merged from every service behind the gateway.

Conventions: JSON in and out; errors are `application/problem+json` with a stable `code`; every
answer carries `X-Request-ID`; lists take `limit` and `cursor`. Send `Authorization: Bearer
<access_token>`; the merchant API (`/api/v1/merchant/*`) is signed instead (see the
`merchantSignature` security scheme).

Rate limits (per client IP, per account, per merchant key, stricter on `/api/v1/auth/*`) answer
429 `rate_limited` with `Retry-After`, and every answer carries the IETF `RateLimit` and
`RateLimit-Policy` headers. When a service is unavailable its routes answer 503
`upstream_unavailable` (or 504 `upstream_timeout`) and everything else keeps working.
"""


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX):]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(docs: dict[str, dict[str, Any]], *, missing: list[str] | None = None) -> dict[str, Any]:
    """Merge the services' documents (service name → document) into one."""
    schemas: dict[str, Any] = copy.deepcopy(GATEWAY_SCHEMAS)
    paths: dict[str, Any] = copy.deepcopy(GATEWAY_PATHS)
    operation_ids: set[str] = set()
    tags: dict[str, dict[str, Any]] = {}
    for service, doc in docs.items():
        own = doc.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in own.items():
            if name in schemas and schemas[name] != _rewrite_refs(schema, {}):
                renames[name] = f"{service}_{name}"
        for name, schema in own.items():
            target = renames.get(name, name)
            schemas.setdefault(target, _rewrite_refs(schema, renames))
        for path, item in doc.get("paths", {}).items():
            if not path.startswith("/api/v1/"):
                continue
            item = _rewrite_refs(item, renames)
            for method, op in item.items():
                if not isinstance(op, dict) or method not in ("get", "put", "post", "delete", "patch", "head"):
                    continue
                op.setdefault("tags", [service])
                for tag in op["tags"]:
                    tags.setdefault(tag, {"name": tag, "x-service": service})
                if op.get("operationId") in operation_ids:
                    op["operationId"] = f"{service}_{op['operationId']}"
                if op.get("operationId"):
                    operation_ids.add(op["operationId"])
                if path.startswith("/api/v1/merchant/"):
                    op["security"] = [{"merchantSignature": []}]
                op.setdefault("responses", {}).setdefault("429", PROBLEM)
            paths.setdefault(path, {}).update(item)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Smart Union API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
        # Bearer where a token is given; many operations also work without one (logins, lists).
        "security": [{"bearerAuth": []}, {}],
        "tags": list(tags.values()),
    }
    if missing:
        document["x-unavailable-services"] = sorted(missing)
    return document


class OpenApiMerger:
    def __init__(self, upstreams: dict[str, str], *, session: aiohttp.ClientSession | None, ttl: float = 300.0,
                 timeout: float = 2.0) -> None:
        self._upstreams = upstreams
        self._session = session
        self._ttl = ttl
        self._timeout = timeout
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}
        self._merged: tuple[float, bytes] | None = None
        self._retry_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self, name: str, base: str) -> dict[str, Any] | None:
        assert self._session is not None
        try:
            async with self._session.get(base + "/openapi.json",
                                         timeout=aiohttp.ClientTimeout(total=self._timeout)) as resp:
                if resp.status != 200:
                    return None
                doc = orjson.loads(await resp.read())
                return doc if isinstance(doc, dict) else None
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError):
            return None

    async def document(self) -> bytes:
        now = time.monotonic()
        if self._merged is not None and now < self._merged[0]:
            return self._merged[1]
        async with self._lock:
            if self._merged is not None and now < self._merged[0]:
                return self._merged[1]
            stale = [n for n in self._upstreams
                     if (n not in self._docs or self._docs[n][0] <= now) and self._retry_at.get(n, 0) <= now]
            fetched = await asyncio.gather(*(self._fetch(n, self._upstreams[n]) for n in stale))
            for name, doc in zip(stale, fetched, strict=True):
                if doc is not None:
                    self._docs[name] = (now + self._ttl, doc)
                else:
                    self._retry_at[name] = now + 2.0  # a sick service is asked again soon, not per request
            missing = [n for n in self._upstreams if n not in self._docs]
            docs = {n: self._docs[n][1] for n in self._upstreams if n in self._docs}
            body = orjson.dumps(merge(docs, missing=missing))
            # A complete document is cached until the first service's copy goes stale; with a
            # service missing, the next request tries that service again.
            expires = min((t for t, _ in self._docs.values()), default=now) if not missing else now
            self._merged = (expires, body)
            return body


def docs_page(openapi_url: str) -> bytes:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>Smart Union API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "{openapi_url}", dom_id: "#swagger-ui", deepLinking: true,
  persistAuthorization: false}});
</script>
</body>
</html>
""".encode()
