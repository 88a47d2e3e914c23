"""RFC 9457 problem+json for every error path, with a stable snake_case `code`.

Domain code raises `ProblemError` subclasses (or instances); the handlers below turn them,
validation errors, HTTP errors and anything unexpected into one shape. No stack traces leave.
"""

from __future__ import annotations

import logging
import sys
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.common.logging import request_id_var

logger = logging.getLogger("smartunion.errors")

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str | None = None

    def __init__(self, detail: str | None = None, *, code: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        if code:
            self.code = code
        if status:
            self.status = status
        self.detail = detail or HTTPStatus(self.status).phrase
        self.headers = headers
        self.extra = extra
        super().__init__(self.detail)


class Unauthenticated(ProblemError):
    status, code = 401, "unauthenticated"


class Forbidden(ProblemError):
    status, code = 403, "forbidden"


class NotFound(ProblemError):
    status, code = 404, "not_found"


class Conflict(ProblemError):
    status, code = 409, "conflict"


class Unprocessable(ProblemError):
    status, code = 422, "validation_error"


class RateLimited(ProblemError):
    status, code = 429, "rate_limited"

    def __init__(self, retry_after: int, detail: str = "请求过于频繁，请稍后再试") -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})


class ServiceUnavailable(ProblemError):
    status, code = 503, "service_unavailable"


def problem_body(status: int, code: str, detail: str, title: str | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {
        "type": f"https://smartunion.example/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    body.update(extra)
    return orjson.dumps(body)


def problem_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                     **extra: Any) -> Response:
    return Response(problem_body(status, code, detail, **extra), status_code=status,
                    media_type=PROBLEM_JSON, headers=headers)


_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


def _validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    code = "validation_error"
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            code = "malformed_json"
        # Never echo the rejected input back: it may be an ID number or a phone.
        errors.append({"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))})
    return code, errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> Response:
        return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **(exc.extra or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        code, errors = _validation_errors(exc)
        detail = "请求体不是合法的 JSON" if code == "malformed_json" else "请求参数不合法"
        status = 400 if code == "malformed_json" else 422
        return problem_response(status, code, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception) -> Response:
        return unhandled_response(exc)

    from sqlalchemy.exc import DBAPIError

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if _is_unstorable_text(exc):
            return problem_response(422, "validation_error", "请求含有无法保存的字符（如 NUL）")
        return await _unhandled(request, exc)


def unhandled_response(exc: Exception) -> Response:
    """The answer to an exception no handler claimed: 503 when the database is down, else 500 —
    logged with the request id, no trace in the body."""
    if _is_database_down(exc):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(503, "database_unavailable", "数据库暂时不可用，请稍后重试",
                                headers={"Retry-After": "1"})
    if _is_redis_down(exc):
        logger.warning("redis unavailable: %s", type(exc).__name__)
        return problem_response(503, "redis_unavailable", "服务暂时不可用，请稍后重试",
                                headers={"Retry-After": "1"})
    logger.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return problem_response(500, "internal_error", "服务器内部错误")


def _is_redis_down(exc: Exception) -> bool:
    """Redis (nonces, limits, idempotency keys when REDIS_URL is set) unreachable or timing out.
    redis-py is imported only where Redis is configured: not loaded, it cannot have raised."""
    redis_errors = sys.modules.get("redis.exceptions")
    return redis_errors is not None and isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError)


def _is_database_down(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and bool(exc.connection_invalidated):
        return True
    # asyncpg's connect errors (refused, reset, timed out) reach us unwrapped: an OSError or a
    # TimeoutError raised inside the connection pool or the driver is the database being away.
    if isinstance(exc, OSError | TimeoutError):
        tb = exc.__traceback__
        while tb is not None:
            module = str(tb.tb_frame.f_globals.get("__name__", ""))
            if module.startswith(("sqlalchemy.pool", "asyncpg", "aiosqlite")):
                return True
            tb = tb.tb_next
    return False


def _is_unstorable_text(exc: Exception) -> bool:
    """PostgreSQL refuses NUL (0x00) in text (SQLSTATE 22021, character_not_in_repertoire); that is
    bad input from the caller, not a server fault. SQLite stores it, so only PostgreSQL gets here."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return False
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if err is not None and "22021" in (getattr(err, "sqlstate", None), getattr(err, "pgcode", None)):
            return True
    return False
