"""HTTP caching where it is free, and `no-store` everywhere else.

Reference data (the insight catalogue, coin packages) is the same for every caller and changes
only with a migration: it is served with `Cache-Control: public, max-age=300` and a strong
`ETag` (a digest of the body), and a request whose `If-None-Match` names the current ETag gets
`304 Not Modified` with no body. A shared chat's public statistics get the ETag with `no-cache`:
a client or proxy may keep them but must ask again each time, because the owner may revoke the
link. Every other response, personal data above all, carries `Cache-Control: no-store` (added
by the request middleware unless a route set its own), so no shared cache keeps a balance or a
chat.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter

REFERENCE_MAX_AGE_S = 300
REFERENCE_DATA = f"public, max-age={REFERENCE_MAX_AGE_S}"
REVALIDATE = "public, no-cache"
NO_STORE = b"no-store"

NOT_MODIFIED: dict[int | str, Any] = {
    304: {"description": "not modified: the If-None-Match ETag is the current one (no body)"}
}


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in offered or etag in offered


def cached_json(request: Request, kind: Any, value: Any, cache_control: str) -> Response:
    """`value` serialised as its declared type `kind` (as FastAPI would), with an ETag; 304
    when the caller already holds this body."""
    body = _adapter(kind).dump_json(value)
    headers = {"ETag": etag_of(body), "Cache-Control": cache_control}
    if _matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def default_no_store(headers: list[tuple[bytes, bytes]]) -> None:
    """Add `Cache-Control: no-store` to a response that chose no caching of its own."""
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        headers.append((b"cache-control", NO_STORE))
