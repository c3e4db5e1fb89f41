"""The JSON output schemas of insight types: their building blocks and the validator.

An output schema is three shared blocks (overall, evidence, recommendations) around fields of the
insight type's own. The schemas use a small JSON Schema subset that both Gemini's structured output
and `schema_problems` understand: type, properties, required, additionalProperties, items,
minItems/maxItems, enum, minimum/maximum, minLength.
"""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]

# Ordered from the best reading to the worst, so a score maps onto them monotonically.
OVERALL_STATUSES = ("thriving", "healthy", "mixed", "strained", "needs_attention")
LEVELS = ("high", "moderate", "low")


# --- building blocks ----------------------------------------------------------------------------


def text() -> JsonSchema:
    return {"type": "string", "minLength": 1}


def choice(*values: str) -> JsonSchema:
    return {"type": "string", "enum": list(values)}


def number(minimum: float, maximum: float) -> JsonSchema:
    return {"type": "number", "minimum": minimum, "maximum": maximum}


def listing(items: JsonSchema, min_items: int = 0, max_items: int = 6) -> JsonSchema:
    return {"type": "array", "items": items, "minItems": min_items, "maxItems": max_items}


def record(**properties: JsonSchema) -> JsonSchema:
    """An object whose every property is required and nothing else is allowed."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def per_person(**fields: JsonSchema) -> JsonSchema:
    """One entry per participant; `name` is a participant's display name."""
    return listing(record(name=text(), **fields), min_items=1, max_items=12)


OVERALL = record(score=number(0, 10), summary=text(), status=choice(*OVERALL_STATUSES))
EVIDENCE_ITEM = record(speaker=text(), message=text(), timestamp=text(), context=text())
RECOMMENDATION = record(
    title=text(),
    target=listing(text(), min_items=1, max_items=12),
    suggestion=text(),
    example_phrases=listing(text(), max_items=4),
)


def insight_schema(**specific: JsonSchema) -> JsonSchema:
    """The full output schema of an insight type: shared blocks around its own fields."""
    return record(
        overall=OVERALL,
        **specific,
        evidence=listing(EVIDENCE_ITEM, max_items=8),
        recommendations=listing(RECOMMENDATION, min_items=1, max_items=4),
    )


# --- validation ---------------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema_problems(schema: JsonSchema, data: object, path: str = "$") -> list[str]:
    """Check `data` against the JSON Schema subset the catalogue uses (see the module docstring)."""
    expected = schema.get("type")
    if expected is not None and not _has_json_type(data, expected):
        return [f"{path}: expected {expected}, got {type(data).__name__}"]
    problems: list[str] = []
    if "enum" in schema and data not in schema["enum"]:
        problems.append(f"{path}: {data!r} is not one of {schema['enum']}")
    if isinstance(data, str) and len(data) < schema.get("minLength", 0):
        problems.append(f"{path}: shorter than {schema['minLength']} characters")
    if isinstance(data, int | float) and not isinstance(data, bool):
        problems.extend(_range_problems(schema, data, path))
    if isinstance(data, dict):
        problems.extend(_object_problems(schema, data, path))
    if isinstance(data, list):
        problems.extend(_array_problems(schema, data, path))
    return problems


def _has_json_type(data: object, expected: str) -> bool:
    if isinstance(data, bool) and expected in ("number", "integer"):
        return False  # JSON has no 1 == true
    return isinstance(data, _JSON_TYPES[expected])


def _range_problems(schema: JsonSchema, value: float, path: str) -> list[str]:
    problems = []
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{path}: {value} is below the minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{path}: {value} is above the maximum {schema['maximum']}")
    return problems


def _object_problems(schema: JsonSchema, data: dict[Any, Any], path: str) -> list[str]:
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    problems = [
        f"{path}: missing {name!r}" for name in schema.get("required", ()) if name not in data
    ]
    if schema.get("additionalProperties") is False:
        problems += [f"{path}: unexpected {key!r}" for key in data if key not in properties]
    for name, value in data.items():
        if name in properties:
            problems += schema_problems(properties[name], value, f"{path}.{name}")
    return problems


def _array_problems(schema: JsonSchema, data: list[Any], path: str) -> list[str]:
    problems = []
    if len(data) < schema.get("minItems", 0):
        problems.append(f"{path}: needs at least {schema['minItems']} items, has {len(data)}")
    if "maxItems" in schema and len(data) > schema["maxItems"]:
        problems.append(f"{path}: allows at most {schema['maxItems']} items, has {len(data)}")
    if "items" in schema:
        for position, item in enumerate(data):
            problems += schema_problems(schema["items"], item, f"{path}[{position}]")
    return problems
