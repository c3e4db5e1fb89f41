"""A route answered without the dependency solver must call exactly what it declares."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from relivchats.api.direct import DirectRoute, answered_by


async def first() -> int:
    return 1


async def second() -> int:
    return 2


async def _handler(request: Request) -> Response:
    return Response(str(await first()))


def test_a_handler_that_calls_what_the_route_declares_is_built():
    router = APIRouter(route_class=DirectRoute)

    @router.get("/one")
    @answered_by(_handler, calling=(first,))
    async def one(value: Annotated[int, Depends(first)]) -> Response:
        return Response(str(value))

    assert router.routes[0].get_route_handler() is _handler  # type: ignore[attr-defined]


def test_a_dependency_the_handler_does_not_call_refuses_the_route():
    router = APIRouter(route_class=DirectRoute)

    with pytest.raises(TypeError, match="/two"):

        @router.get("/two", dependencies=[Depends(second)])
        @answered_by(_handler, calling=(first,))
        async def two(value: Annotated[int, Depends(first)]) -> Response:
            return Response(str(value))


def test_an_unmarked_route_is_solved_as_usual():
    router = APIRouter(route_class=DirectRoute)

    @router.get("/three")
    async def three(value: Annotated[int, Depends(first)]) -> Response:
        return Response(str(value))

    assert router.routes[0].get_route_handler() is not _handler  # type: ignore[attr-defined]
