"""The insight catalogue (product spec §2): categories, their insight types, and output schemas.

Reference data, not events: migrations seed it from here. Each insight type carries our own prompt
wording, the keywords that retrieve chat excerpts for it, the statistics it needs, and a JSON output
schema built from three shared blocks (overall, evidence, recommendations) plus fields of its own.
The schemas use a small JSON Schema subset that both Gemini's structured output and
`schema_problems` understand: type, properties, required, additionalProperties, items,
minItems/maxItems, enum, minimum/maximum, minLength.

This file is long because it is data; the logic is the few helpers at the top and the validator
at the bottom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from relivchats.domain.errors import NotFound

JsonSchema = dict[str, Any]

DEFAULT_CATEGORY_COST = 400

# Statistic keys an insight type may ask for; the generation worker picks these out of a chat's
# stored statistics (product spec §4) and hands them to the prompt.
STATISTICS = frozenset(
    {
        "totals",
        "date_range",
        "messages_by_date",
        "hourly_distribution",
        "weekday_distribution",
        "top_words",
        "top_emoji",
        "links",
        "participants.messages",
        "participants.words",
        "participants.avg_words_per_message",
        "participants.initiations",
        "participants.double_texting_rate",
        "participants.questions",
        "participants.avg_response_time",
        "participants.top_words",
        "participants.top_emoji",
        "participants.busiest_hour",
        "participants.deleted",
        "participants.media",
        "participants.longest_message",
    }
)

# Ordered from the best reading to the worst, so a score maps onto them monotonically.
OVERALL_STATUSES = ("thriving", "healthy", "mixed", "strained", "needs_attention")
LEVELS = ("high", "moderate", "low")
LOVE_LANGUAGES = (
    "words_of_affirmation",
    "quality_time",
    "acts_of_service",
    "receiving_gifts",
    "physical_touch",
)
CONFLICT_STYLES = ("collaborating", "compromising", "accommodating", "avoiding", "competing")
ALIGNMENT = ("aligned", "partly_aligned", "unclear", "divergent")
SUPPORT_KINDS = ("emotional", "practical", "informational", "celebratory")
FAMILY_CONFLICT_ROLES = ("peacemaker", "mediator", "bystander", "avoider", "escalator")
DECISION_STYLES = ("consensus", "consultative", "directive", "unclear")


# --- schema building blocks -------------------------------------------------------------------


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


# --- catalogue types ----------------------------------------------------------------------------


class ChatSize(Enum):
    EXACTLY_TWO = "exactly_2"
    TWO_OR_MORE = "2_or_more"

    def admits(self, participant_count: int) -> bool:
        if self is ChatSize.EXACTLY_TWO:
            return participant_count == 2
        return participant_count >= 2

    @property
    def rule(self) -> str:
        return (
            "exactly 2 participants" if self is ChatSize.EXACTLY_TWO else "2 or more participants"
        )


@dataclass(frozen=True, eq=False)
class InsightType:
    slug: str
    title: str
    description: str
    icon: str
    keywords: tuple[str, ...]
    prompt: str
    statistics: tuple[str, ...]
    output_schema: JsonSchema


@dataclass(frozen=True, eq=False)
class Category:
    slug: str
    display_name: str
    description: str
    icon: str
    chat_size: ChatSize
    insight_types: tuple[InsightType, ...]
    cost_coins: int = DEFAULT_CATEGORY_COST

    def fits(self, participant_count: int) -> bool:
        return self.chat_size.admits(participant_count)


def _insight(
    slug: str,
    title: str,
    icon: str,
    description: str,
    keywords: str,
    statistics: Iterable[str],
    prompt: str,
    **specific: JsonSchema,
) -> InsightType:
    return InsightType(
        slug=slug,
        title=title,
        description=description,
        icon=icon,
        keywords=tuple(word.strip() for word in keywords.split(",")),
        prompt=" ".join(prompt.split()),
        statistics=tuple(statistics),
        output_schema=insight_schema(**specific),
    )


_BALANCE = ("participants.messages", "participants.words", "participants.initiations")
_RHYTHM = ("totals", "date_range", "hourly_distribution", "weekday_distribution")

ROMANTIC = Category(
    slug="romantic",
    display_name="Romantic Relationship",
    description="How the two of you talk, feel, disagree, plan and play together.",
    icon="❤️",
    chat_size=ChatSize.EXACTLY_TWO,
    insight_types=(
        _insight(
            "communication_basics",
            "Communication Basics",
            "💬",
            "Who reaches out, how quickly you answer, and how well you listen to each other.",
            "how was your day, call me, reply, seen, busy, talk later, listen, explain, "
            "what do you mean, ok, hmm, baat karo, sun na",
            (
                *_BALANCE,
                "participants.avg_response_time",
                "participants.questions",
                "participants.double_texting_rate",
            ),
            """Describe how these two partners communicate day to day. Use the statistics for the
            shape of it (who starts conversations, who writes more, reply speed, questions asked,
            double texting) and the excerpts for its texture: do they ask follow-up questions,
            acknowledge what the other said, explain themselves, or answer in fragments? A fast
            reply is not automatically a good one, and a slow one may just be a busy schedule:
            look for whether messages are actually answered. Name each person's style with its
            strengths and its watch-outs, and say who carries more of the conversation and
            whether that looks like a burden or simply a difference in temperament.""",
            communication_styles=per_person(
                style=text(), strengths=listing(text(), 1, 4), watch_outs=listing(text(), 0, 4)
            ),
            balance=record(more_engaged=text(), summary=text()),
        ),
        _insight(
            "emotional_intimacy",
            "Emotional Intimacy",
            "🫂",
            "How openly you share feelings, and how those moments are received.",
            "feel, feeling, scared, worried, sad, happy, proud, miss you, need you, cry, hurt, "
            "trust, honestly, dil, pyaar",
            (
                "participants.messages",
                "participants.avg_words_per_message",
                "top_emoji",
                "participants.top_emoji",
                "participants.longest_message",
            ),
            """Look at emotional intimacy: moments where someone names a feeling, admits a fear,
            shares something personal, or asks for comfort, and above all how the other person
            responds to it (curiosity and warmth, a quick change of subject, or silence). Long
            messages and emotional emoji are hints, not proof. Rate each person's emotional
            availability from what they share and how they receive what is shared with them.
            List the vulnerable moments you can see, each with its theme and whether the response
            was warm, neutral or missed. Be gentle: describe patterns, not character flaws.""",
            emotional_availability=per_person(level=choice(*LEVELS), note=text()),
            vulnerable_moments=listing(
                record(speaker=text(), theme=text(), response=choice("warm", "neutral", "missed")),
            ),
        ),
        _insight(
            "love_language",
            "Love Languages",
            "💝",
            "How each of you shows love, and whether it is the way the other hears it.",
            "love you, proud of you, thank you, gift, surprise, bought, let me help, I'll do it, "
            "spend time, together, date, hug, kiss, cuddle, jaanu",
            ("participants.top_words", "participants.top_emoji", "participants.media", "top_emoji"),
            """Infer each person's love languages (words of affirmation, quality time, acts of
            service, receiving gifts, physical touch) from how they express care in the chat:
            compliments and reassurance, plans to spend time together, offers to help or
            practical errands, gifts and surprises, and longing for closeness or touch. Give each
            person a primary and a secondary language with concrete signs from the excerpts.
            Then explain where their languages match and where one person's way of giving love
            may not register with the other, because that gap is the useful part.""",
            love_languages=per_person(
                primary=choice(*LOVE_LANGUAGES),
                secondary=choice(*LOVE_LANGUAGES),
                signs=listing(text(), 1, 4),
            ),
            compatibility=text(),
        ),
        _insight(
            "conflict_resolution",
            "Conflict & Repair",
            "🕊️",
            "What sets off disagreements, how each of you fights, and how you make up.",
            "sorry, angry, upset, fight, why did you, you always, you never, leave it, whatever, "
            "fine, my fault, let's talk, calm down, gussa, maaf",
            (
                "participants.avg_response_time",
                "participants.deleted",
                "messages_by_date",
                "participants.double_texting_rate",
            ),
            """Study the disagreements in the excerpts: what triggers them, how they escalate,
            and how they end. Classify each person's usual conflict style (collaborating,
            compromising, accommodating, avoiding, competing) and support it with what they
            actually wrote. Pay special attention to repair attempts: apologies, humour,
            reassurance, proposals to talk later, and whether the other person accepted them.
            Long silences, bursts of double texting and deleted messages around an argument are
            useful context. Do not take sides; show both people what their part of the pattern
            is and one thing each could do differently next time.""",
            conflict_styles=per_person(style=choice(*CONFLICT_STYLES), note=text()),
            recurring_triggers=listing(text(), 0, 5),
            repair_attempts=listing(
                record(speaker=text(), approach=text(), landed=choice("yes", "partly", "no")), 0, 5
            ),
        ),
        _insight(
            "future_planning",
            "Future Planning",
            "🧭",
            "The plans you make together, from weekends to years ahead, and how aligned you are.",
            "future, plan, someday, next year, move, marry, wedding, kids, house, savings, job, "
            "trip, together, shaadi, ghar",
            ("top_words", "date_range", "messages_by_date"),
            """Find where these partners talk about the future: near plans (weekends, trips,
            visits) and far ones (living together, marriage, children, careers, money, where to
            live). For each topic say whether they seem aligned, partly aligned, divergent, or
            whether it is simply unclear from the chat, and why. Note shared goals they both
            state, and commitment signals such as "we" language, follow-through on plans made
            earlier, or one person repeatedly deferring. Never guess about topics the excerpts
            do not touch; say that they were not discussed.""",
            planning_topics=listing(
                record(topic=text(), alignment=choice(*ALIGNMENT), note=text())
            ),
            shared_goals=listing(text(), 0, 5),
            commitment_signals=listing(text(), 0, 5),
        ),
        _insight(
            "playfulness_romance",
            "Playfulness & Romance",
            "✨",
            "Teasing, inside jokes, flirting and the small romantic gestures that keep the spark.",
            "haha, lol, lmao, cute, miss you, good night, good morning, baby, jaan, flirt, date "
            "night, joke, tease, 😘, 😂",
            ("top_emoji", "participants.top_emoji", "hourly_distribution", "participants.media"),
            """Describe the playful and romantic side of this relationship: each person's sense
            of humour (teasing, wordplay, memes, silliness), pet names and affectionate rituals
            such as good-morning and good-night messages, flirting, compliments, and late-night
            conversations. Judge how often romance shows up across the chat, not just in its
            best moments. Teasing that lands as hurtful is not playfulness; mention it if you
            see it. Suggest small, specific ways to keep the spark that fit their own style.""",
            humor_styles=per_person(style=text()),
            affection_markers=listing(text(), 0, 6),
            romance_frequency=choice("constant", "frequent", "occasional", "rare"),
        ),
    ),
)

FRIENDSHIP = Category(
    slug="friendship",
    display_name="Friendship",
    description="Trust, support and the spark that keeps a friendship going.",
    icon="🤝",
    chat_size=ChatSize.EXACTLY_TWO,
    insight_types=(
        _insight(
            "friendship_trust_loyalty",
            "Trust & Loyalty",
            "🔐",
            "Whether you can count on each other, keep each other's secrets and show up.",
            "trust, promise, secret, don't tell, got your back, there for you, count on, "
            "always, never let, kept, loyal, bro, yaar, pakka",
            ("participants.messages", "participants.avg_response_time", "date_range"),
            """Assess trust and loyalty between these friends. Look for confidences shared and
            kept, promises made and kept (or quietly dropped), defending or standing up for each
            other, showing up when it mattered, and how reliably each replies when the other
            needs them. Rate each friend's reliability with a short, fair note, list the trust
            signals you see, and describe concrete loyalty moments. If the chat shows a breach
            of trust, describe it factually and whether it was repaired.""",
            reliability=per_person(level=choice(*LEVELS), note=text()),
            trust_signals=listing(text(), 0, 6),
            loyalty_moments=listing(record(speaker=text(), description=text()), 0, 5),
        ),
        _insight(
            "friendship_support_dynamics",
            "Support Dynamics",
            "🤲",
            "How you support each other in hard times and good ones, and whether it is mutual.",
            "help, advice, what should I do, stressed, exam, interview, proud of you, congrats, "
            "you got this, need to talk, call, rough day, tension mat le",
            (*_BALANCE, "participants.questions", "participants.avg_response_time"),
            """Map the support in this friendship: emotional support (listening, comforting),
            practical help (favours, logistics), informational support (advice, recommendations)
            and celebratory support (cheering each other's wins). For each friend, say which
            kinds of support they give, with a note grounded in the excerpts. Then judge
            reciprocity: balanced, leaning one way, or one-sided, remembering that support can
            be balanced over time even when a single crisis is not. Suggest how the one who
            gives more could ask for support, and how the other could offer it.""",
            support_given=per_person(
                support_types=listing(choice(*SUPPORT_KINDS), 0, 4), note=text()
            ),
            reciprocity=record(
                balance=choice("balanced", "leans_one_way", "one_sided"), summary=text()
            ),
        ),
        _insight(
            "friendship_vitality",
            "Friendship Vitality",
            "🔥",
            "The energy of your friendship over time: shared interests, inside jokes and rhythm.",
            "remember when, we should, let's meet, long time, missed you, plan, movie, match, "
            "game, party, trip, meme, haha, milte hain",
            (*_RHYTHM, "messages_by_date", "top_words", "top_emoji"),
            """Describe how alive this friendship is. Use messages by date to see whether
            contact is growing, steady, fluctuating or fading, and be careful to distinguish a
            fading friendship from a busy period. From the excerpts, find shared interests,
            inside jokes and running references, plans to meet, and nostalgia. Describe their
            catch-up rhythm (daily banter, weekly check-ins, long gaps then long calls). End with
            suggestions that build on what already energises them.""",
            energy_trend=choice("growing", "steady", "fluctuating", "fading"),
            shared_interests=listing(text(), 0, 6),
            inside_jokes=listing(text(), 0, 5),
            catch_up_rhythm=text(),
        ),
    ),
)

FAMILY = Category(
    slug="family",
    display_name="Family",
    description="Roles, warmth and friction in your family's conversations.",
    icon="🏡",
    chat_size=ChatSize.TWO_OR_MORE,
    insight_types=(
        _insight(
            "family_dynamics",
            "Family Dynamics",
            "👨‍👩‍👧",
            "The roles each person plays and how conversation flows through the family.",
            "mom, dad, mummy, papa, beta, didi, bhaiya, family, home, dinner, festival, call "
            "your, everyone, ghar, sab log",
            (*_BALANCE, "participants.questions", "totals"),
            """Describe the dynamics of this family chat. Identify the role each person plays:
            organiser, caretaker, news-bringer, joker, advice-giver, quiet observer, and so on,
            supported by message share, conversation starts and the excerpts. Name the
            connectors who keep everyone in touch, and describe how conversation flows: through
            one hub person, in pairs, or openly among everyone. Respect generational and
            cultural context; describe patterns without ranking family members.""",
            roles=per_person(role=text(), note=text()),
            connectors=listing(text(), 0, 4),
            communication_flow=text(),
        ),
        _insight(
            "family_emotional_climate",
            "Emotional Climate",
            "🌤️",
            "The overall warmth and tension in your family's conversations.",
            "love you, proud, blessings, take care, miss you, worried, angry, why didn't you, "
            "disappointed, happy birthday, congratulations, 🙏, ❤️",
            ("top_emoji", "participants.top_emoji", "top_words", "hourly_distribution"),
            """Read the emotional climate of this family chat as a whole: warm, supportive,
            neutral, tense or volatile. List the markers of warmth (blessings, greetings,
            celebrations, care and check-ins) and the markers of tension (criticism, guilt,
            sarcasm, unanswered messages, arguments that spill into the group). Weigh everyday
            tone more than rare incidents, and note whether the climate differs between sub-
            groups of the family.""",
            climate=choice("warm", "supportive", "neutral", "tense", "volatile"),
            warmth_markers=listing(text(), 0, 6),
            tension_markers=listing(text(), 0, 6),
        ),
        _insight(
            "family_conflict_patterns",
            "Conflict Patterns",
            "🧩",
            "What your family disagrees about and the part each person plays when it happens.",
            "argue, fight, shouting, not fair, always, never, respect, listen, stop it, enough, "
            "sorry, forget it, jhagda, bas karo",
            ("participants.deleted", "participants.avg_response_time", "messages_by_date"),
            """Examine how conflict works in this family. Find the topics that come up again and
            again (money, chores, marriage, careers, visits, respect), and the role each person
            tends to take: peacemaker, mediator, bystander, avoider or escalator. Say how
            conflicts usually end: resolved, left open, avoided or escalated. Be even-handed and
            culturally aware, and focus recommendations on small changes in how things are said
            rather than on who is right.""",
            recurring_topics=listing(text(), 0, 5),
            conflict_roles=per_person(role=choice(*FAMILY_CONFLICT_ROLES), note=text()),
            resolution_tendency=choice("resolved", "left_open", "avoided", "escalated"),
        ),
    ),
)

WORKPLACE = Category(
    slug="workplace",
    display_name="Workplace",
    description="Clarity, collaboration and the health of working relationships.",
    icon="💼",
    chat_size=ChatSize.TWO_OR_MORE,
    insight_types=(
        _insight(
            "workplace_communication",
            "Workplace Communication",
            "📣",
            "How clearly and responsively the team communicates, and where messages get lost.",
            "deadline, update, status, asap, please, clarify, meeting, call, eod, follow up, "
            "ping, noted, will do, can you",
            (
                *_BALANCE,
                "participants.avg_response_time",
                "participants.questions",
                "weekday_distribution",
                "hourly_distribution",
            ),
            """Evaluate communication in this work chat. Judge clarity: are requests specific,
            with owners and deadlines, or vague and repeated? Describe each person's style and
            responsiveness, noting that response time matters more during working hours. Find
            friction points: unanswered questions, misunderstandings, instructions that needed
            re-explaining, tone that reads as curt. Keep recommendations practical (templates,
            acknowledgements, summaries after calls) and keep the tone professional.""",
            clarity=choice(*LEVELS),
            communicators=per_person(style=text(), responsiveness=choice(*LEVELS)),
            friction_points=listing(text(), 0, 5),
        ),
        _insight(
            "workplace_collaboration",
            "Collaboration",
            "🛠️",
            "Who contributes what, how decisions get made, and how well the team works together.",
            "let's, we can, idea, proposal, review, feedback, decide, agreed, approve, owner, "
            "task, done, shared, doc, link",
            (*_BALANCE, "links", "participants.questions"),
            """Describe how this group collaborates. For each person, summarise their main
            contribution (ideas, execution, coordination, review, unblocking others). Classify
            decision-making as consensus, consultative, directive or unclear, with a note on how
            you can tell. List collaboration patterns you see, good and bad: building on each
            other's ideas, credit given, work dropped between people, decisions re-opened.
            Shared links and documents are a useful signal of working together.""",
            contributions=per_person(contribution=text()),
            decision_making=record(style=choice(*DECISION_STYLES), note=text()),
            collaboration_patterns=listing(text(), 0, 5),
        ),
        _insight(
            "workplace_relationship_health",
            "Relationship Health",
            "🌱",
            "Respect, boundaries and stress in your working relationships.",
            "thanks, great job, appreciate, sorry to bother, weekend, late, urgent, overtime, "
            "stressed, tired, leave, sick, boundaries, pressure",
            (
                "hourly_distribution",
                "weekday_distribution",
                "participants.avg_response_time",
                "top_emoji",
            ),
            """Assess the health of these working relationships. Look for respect markers
            (thanks, credit, courtesy, acknowledging effort) and stress signals (urgency,
            pressure, frustration, apologies for delays, talk of exhaustion). Use the hourly and
            weekday distributions to judge boundaries: how much work talk happens late at night
            or on weekends, and whether it is expected. Rate boundary health and burnout risk
            cautiously; this is not a medical assessment. Recommend changes a team can agree on
            together.""",
            boundary_health=choice("healthy", "blurred", "strained"),
            burnout_risk=choice("low", "moderate", "high"),
            respect_markers=listing(text(), 0, 5),
            stress_signals=listing(text(), 0, 5),
        ),
    ),
)

CATEGORIES: tuple[Category, ...] = (ROMANTIC, FRIENDSHIP, FAMILY, WORKPLACE)
INSIGHT_TYPES: dict[str, InsightType] = {
    insight.slug: insight for category in CATEGORIES for insight in category.insight_types
}
_CATEGORY_OF = {
    insight.slug: category for category in CATEGORIES for insight in category.insight_types
}


def category(slug: str) -> Category:
    for candidate in CATEGORIES:
        if candidate.slug == slug:
            return candidate
    raise NotFound(f"no category {slug!r}", category=slug)


def insight_type(slug: str) -> InsightType:
    try:
        return INSIGHT_TYPES[slug]
    except KeyError:
        raise NotFound(f"no insight type {slug!r}", insight_type=slug) from None


def category_of(insight_slug: str) -> Category:
    return _CATEGORY_OF[insight_type(insight_slug).slug]


# --- validation ---------------------------------------------------------------------------------


def validate_insight(type_slug: str, data: object) -> list[str]:
    """Every way `data` breaks the insight type's output schema; empty when it is acceptable."""
    return schema_problems(insight_type(type_slug).output_schema, data)


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
