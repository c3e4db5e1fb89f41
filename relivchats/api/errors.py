"""One error envelope for every failure, and the one place where domain errors get HTTP codes.

`{"error": {"code", "message", "details", "request_id"}}` — never a stack trace or SQL.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relivchats.adapters import payments
from relivchats.adapters.storage import StorageUnavailable
from relivchats.api.methods import allowed_methods
from relivchats.domain import errors as domain
from relivchats.domain import uploads
from relivchats.logs import request_id_var

log = logging.getLogger(__name__)

# Most specific first: the first class in an error's MRO found here decides its status.
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.UserDeleted: 401,
    domain.Busy: 503,
    domain.InsufficientFunds: 402,
    uploads.UploadTooLarge: 413,
    uploads.CompressionRatioTooHigh: 413,
    uploads.ChatTooLargeToProcess: 413,
}
DEFAULT_DOMAIN_STATUS = 422

# Payment provider failures: a webhook we must refuse, or a provider call that did not succeed.
PROVIDER_STATUS: dict[type[payments.PaymentProviderError], tuple[int, str]] = {
    payments.InvalidWebhook: (400, "invalid_webhook"),
    payments.ProviderRejected: (502, "provider_rejected"),
    payments.ProviderUnavailable: (503, "provider_unavailable"),
}

# Storage trouble (adapters/storage.py) and a request past its deadline (api/middleware.py):
# the same request may succeed shortly, so clients and webhook providers are told to come back.
STORAGE_RETRY_AFTER_S = 2


HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (auth, limits, unavailable dependencies)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or HTTP_CODES.get(status, "error")
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id_var.get(),
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def unavailable_response(code: str, message: str) -> JSONResponse:
    """503 in the envelope with Retry-After: what a caller sees when we could not finish."""
    return envelope(503, code, message, headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)})


def status_for(error: domain.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return DEFAULT_DOMAIN_STATUS


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return envelope(error.status, error.code, error.message, error.details, error.headers)


async def _domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, domain.DomainError)
    status = status_for(error)
    headers = {"Retry-After": "1"} if status == 503 else None
    return envelope(status, error.code, error.message, error.details, headers)


async def _provider_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, payments.PaymentProviderError)
    status, code = next(
        (PROVIDER_STATUS[cls] for cls in type(error).__mro__ if cls in PROVIDER_STATUS),
        (502, "provider_error"),
    )
    headers = {"Retry-After": "5"} if status == 503 else None
    return envelope(status, code, str(error), headers=headers)


async def _storage_unavailable(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StorageUnavailable)
    log.warning("%s", error, extra={"operation": error.operation})
    return unavailable_response(
        "storage_unavailable", "the database is unavailable just now; please try again"
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTP_CODES.get(error.status_code, "error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    headers = getattr(error, "headers", None)
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return envelope(error.status_code, code, message, headers=headers)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # Location and reason only: echoing the input could repeat secrets back into logs.
    problems = [
        {"location": [str(part) for part in problem["loc"]], "problem": problem["msg"]}
        for problem in error.errors()
    ]
    return envelope(422, "validation_error", "the request is not valid", {"problems": problems})


def unexpected_error_response() -> JSONResponse:
    """What the caller sees of a bug: an apology and a request id, nothing internal."""
    return envelope(500, "internal_error", "something went wrong on our side; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(payments.PaymentProviderError, _provider_error)
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
