"""The insight catalogue (product spec §2): categories, their insight types, and output schemas.

Reference data, not events: migrations seed it from here (`scripts/insight_types_seed.py`).
`schemas` builds and checks the JSON output schemas, `insight_types` says what an insight type is,
one module per category (`romantic`, `friendship`, `family`, `workplace`) holds its insight types'
prompts, keywords and schema fields, and `categories` puts them together and looks them up.
Import from the package; it re-exports the public names.
"""

from relivchats.domain.catalogue.categories import (
    CATEGORIES,
    DEFAULT_CATEGORY_COST,
    FAMILY,
    FRIENDSHIP,
    INSIGHT_TYPES,
    ROMANTIC,
    WORKPLACE,
    Category,
    ChatSize,
    category,
    category_of,
    insight_type,
    validate_insight,
)
from relivchats.domain.catalogue.family import FAMILY_CONFLICT_ROLES
from relivchats.domain.catalogue.friendship import SUPPORT_KINDS
from relivchats.domain.catalogue.insight_types import STATISTICS, InsightType
from relivchats.domain.catalogue.romantic import ALIGNMENT, CONFLICT_STYLES, LOVE_LANGUAGES
from relivchats.domain.catalogue.schemas import (
    EVIDENCE_ITEM,
    LEVELS,
    OVERALL,
    OVERALL_STATUSES,
    RECOMMENDATION,
    JsonSchema,
    choice,
    insight_schema,
    listing,
    number,
    per_person,
    record,
    schema_problems,
    text,
)
from relivchats.domain.catalogue.workplace import DECISION_STYLES

__all__ = [
    "ALIGNMENT",
    "CATEGORIES",
    "CONFLICT_STYLES",
    "DECISION_STYLES",
    "DEFAULT_CATEGORY_COST",
    "EVIDENCE_ITEM",
    "FAMILY",
    "FAMILY_CONFLICT_ROLES",
    "FRIENDSHIP",
    "INSIGHT_TYPES",
    "LEVELS",
    "LOVE_LANGUAGES",
    "OVERALL",
    "OVERALL_STATUSES",
    "RECOMMENDATION",
    "ROMANTIC",
    "STATISTICS",
    "SUPPORT_KINDS",
    "WORKPLACE",
    "Category",
    "ChatSize",
    "InsightType",
    "JsonSchema",
    "category",
    "category_of",
    "choice",
    "insight_schema",
    "insight_type",
    "listing",
    "number",
    "per_person",
    "record",
    "schema_problems",
    "text",
    "validate_insight",
]
