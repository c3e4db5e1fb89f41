"""Routes that answer without FastAPI's dependency solver, for the hottest reads (P1).

FastAPI solves a route's declared dependencies on every request: about 80,000 instructions per
dependency, a fifth of the balance read. A route marked `answered_by(handler)` keeps its declared
signature (OpenAPI, the security scheme, the read-position parameters are generated from it,
unchanged) but each request goes straight to `handler(request)`, which calls the same
dependency functions itself, in the same order, and the endpoint with what they return.
Exceptions take the same way as from the solver (the app's exception handlers).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class DirectRoute(APIRoute):
    """An `APIRoute` whose endpoint may name the handler that answers it directly.

    The handler must call what the route declares, no more and no less: a dependency added to
    the route (or its router) later and not to the handler would be skipped silently, so such a
    route refuses to be built.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        calls: tuple[Callable[..., Any], ...] | None = getattr(endpoint, "direct_calls", None)
        declared = tuple(dependency.call for dependency in self.dependant.dependencies)
        if calls is not None and declared != calls:
            raise TypeError(
                f"{path}: its direct handler calls {calls}, the route declares {declared}"
            )

    def get_route_handler(self) -> Handler:
        direct: Handler | None = getattr(self.endpoint, "direct_handler", None)
        return direct if direct is not None else super().get_route_handler()


def answered_by(
    handler: Handler, *, calling: Sequence[Callable[..., Any]]
) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint as answered by `handler`, which calls the dependencies `calling` in
    this order (a `DirectRoute` router applies it, and checks them against the declaration)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.direct_handler = handler  # type: ignore[attr-defined]
        endpoint.direct_calls = tuple(calling)  # type: ignore[attr-defined]
        return endpoint

    return mark


def solved_headers() -> Response:
    """What a dependency's `response` parameter receives from the solver: a response with no
    headers, whose headers the handler then adds to its answer."""
    response = Response()
    del response.headers["content-length"]
    return response
