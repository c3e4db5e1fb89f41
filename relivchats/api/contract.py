"""What FastAPI cannot infer for the OpenAPI contract: error statuses and replayed writes.

Every route lists the error statuses it can really answer with `error_responses(401, 404, ...)`,
so the document a client (or a schema-driven fuzzer) reads is the whole truth: no status the
server sends is missing from it, and each carries the one envelope that `api/errors.py` builds.
Writes that create answer 201, and 200 when an earlier request already did (`replayed`); their
links say which reads follow (`linked`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from relivchats.api.dependencies import MAX_POSITION, WAITS_FOR_POSITION
from relivchats.settings import Settings


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. chat_not_found, rate_limited")
    message: str = Field(description="for people; never a stack trace or SQL")
    details: dict[str, Any] = Field(description="what the code needs: limits, deficits, problems")
    request_id: str | None = Field(description="the X-Request-Id of this request, for support")


class ErrorEnvelope(BaseModel):
    """What every failure answers, whatever its status."""

    error: ErrorBody


_RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "string"}}

DESCRIPTIONS = {
    400: "the body could not be read (not UTF-8 / JSON), or a webhook signature does not verify",
    401: "no valid bearer token, or the account was deleted",
    402: "not enough available coins: details hold required, available and deficit",
    404: "no such resource for this caller",
    409: "conflicts with the resource's state, an open job, or an earlier Idempotency-Key",
    413: "the upload is too large (file, unpacked archive or parsing memory)",
    415: "the body is not multipart/form-data",
    422: "a parameter, header or the body is not valid, or a domain rule refuses the command",
    429: "too many requests: see Retry-After",
    502: "the payment provider refused the call",
    503: "the database or a provider is unavailable for a moment, or an operator switched the"
    " feature off (feature_disabled): see Retry-After",
}

HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {**_RETRY_AFTER, "required": True}},
    503: {"Retry-After": {**_RETRY_AFTER, "required": True}},
}


def error_responses(*statuses: int, rate_limit: str | None = None) -> dict[int | str, Any]:
    """FastAPI `responses=` for these statuses, each with the envelope's schema.

    `rate_limit` names the setting that limits the route (`rate_limit_order`); the 429's
    description then states the default limit and the variable that changes it.
    """
    if rate_limit is not None:
        statuses = (*statuses, 429)
    responses: dict[int | str, Any] = {}
    for status in sorted(set(statuses)):
        declared: dict[str, Any] = {"model": ErrorEnvelope, "description": DESCRIPTIONS[status]}
        if status in HEADERS:
            declared["headers"] = HEADERS[status]
        responses[status] = declared
    if rate_limit is not None:
        responses[429]["description"] = _rate_limit_description(rate_limit)
    return responses


SAME_KEY = "an earlier request with the same Idempotency-Key did it: its result"


def replayed(model: type[BaseModel], why: str = SAME_KEY) -> dict[int | str, Any]:
    """The 200 of a creating write (201) that finds its work already done: `why` says when."""
    return {200: {"model": model, "description": why}}


def link(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: which values of this response fill another operation's parameters.

    Clients (and the stateful fuzzer) follow them: a write, then reads of what it made.
    """
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def linked(status: int, **links: dict[str, Any]) -> dict[int | str, Any]:
    return {status: {"links": links}}


# A write's `position`: reads that follow it wait for the read models to reach it.
WRITTEN = "$response.body#/position"


def _rate_limit_description(setting: str) -> str:
    default = Settings.model_fields[setting].default
    return (
        f"too many requests: at most {default} per user by default (`{setting.upper()}`);"
        " Retry-After gives the seconds until the window ends"
    )


# PostgreSQL's OFFSET is a bigint: a larger page offset would fail in the driver, not in the API.
MAX_OFFSET = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _position_parameter(name: str, where: str, title: str, description: str) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 0, "maximum": MAX_POSITION, "default": 0}
    return {
        "name": name,
        "in": where,
        "required": False,
        "description": description,
        "schema": {**schema, "title": title, "description": description},
    }


# Read-your-writes: what `wait_for_min_position` parses itself (api/dependencies.py, P1).
READ_POSITION = [
    _position_parameter(
        "min_position", "query", "Min Position", "wait (bounded) for this log position"
    ),
    _position_parameter("x-min-position", "header", "X-Min-Position", "the same as min_position"),
]


def declare_read_position(routes: list[BaseRoute]) -> None:
    """Declare the read-position parameters on every route that waits for them."""
    for route in routes:
        if isinstance(route, APIRoute) and _waits(route.dependant):
            extra = route.openapi_extra or {}
            others = [p for p in extra.get("parameters", []) if p not in READ_POSITION]
            route.openapi_extra = {**extra, "parameters": others + READ_POSITION}


def _waits(dependant: Dependant) -> bool:
    return dependant.call in WAITS_FOR_POSITION or any(map(_waits, dependant.dependencies))
