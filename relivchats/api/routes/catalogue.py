"""`/api/categories`: the insight catalogue (reference data seeded by migrations), no auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from relivchats.api.caching import NOT_MODIFIED, REFERENCE_DATA, cached_json
from relivchats.api.contract import error_responses
from relivchats.api.dependencies import ReadDb, wait_for_min_position
from relivchats.api.errors import ApiError
from relivchats.api.schemas.insights import CategoryView, InsightType, categories_of
from relivchats.projections.catalogue_queries import categories_with_insights

router = APIRouter(prefix="/api/categories", tags=["catalogue"])
READ = [Depends(wait_for_min_position)]

CategoryId = Annotated[str, Path(min_length=1, max_length=64, description="the category slug")]


@router.get(
    "",
    response_model=list[CategoryView],
    dependencies=READ,
    responses={**error_responses(422, 503), **NOT_MODIFIED},
)
async def categories(request: Request, db: ReadDb) -> Response:
    """Active categories with their insight types (in order) and cost (ETag, 5 min cache)."""
    found = categories_of(await categories_with_insights(db))
    return cached_json(request, list[CategoryView], found, REFERENCE_DATA)


@router.get(
    "/{category_id}/insights",
    response_model=list[InsightType],
    dependencies=READ,
    responses={**error_responses(404, 422, 503), **NOT_MODIFIED},
)
async def category_insights(request: Request, category_id: CategoryId, db: ReadDb) -> Response:
    found = categories_of(await categories_with_insights(db, category_id))
    if not found:
        raise ApiError(404, f"no category {category_id!r}", code="category_not_found")
    return cached_json(request, list[InsightType], found[0].insights, REFERENCE_DATA)
