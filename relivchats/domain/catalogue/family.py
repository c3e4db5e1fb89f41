"""The insight types of the family category (product spec §2): a family chat of two or more."""

from __future__ import annotations

from relivchats.domain.catalogue.insight_types import BALANCE, InsightType, insight
from relivchats.domain.catalogue.schemas import choice, listing, per_person, text

FAMILY_CONFLICT_ROLES = ("peacemaker", "mediator", "bystander", "avoider", "escalator")

FAMILY_INSIGHTS: tuple[InsightType, ...] = (
    insight(
        "family_dynamics",
        "Family Dynamics",
        "👨‍👩‍👧",
        "The roles each person plays and how conversation flows through the family.",
        "mom, dad, mummy, papa, beta, didi, bhaiya, family, home, dinner, festival, call "
        "your, everyone, ghar, sab log",
        (*BALANCE, "participants.questions", "totals"),
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
    insight(
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
    insight(
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
)
