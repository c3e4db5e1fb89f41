"""The insight types of the workplace category (product spec §2): colleagues, two or more."""

from __future__ import annotations

from relivchats.domain.catalogue.insight_types import BALANCE, InsightType, insight
from relivchats.domain.catalogue.schemas import LEVELS, choice, listing, per_person, record, text

DECISION_STYLES = ("consensus", "consultative", "directive", "unclear")

WORKPLACE_INSIGHTS: tuple[InsightType, ...] = (
    insight(
        "workplace_communication",
        "Workplace Communication",
        "📣",
        "How clearly and responsively the team communicates, and where messages get lost.",
        "deadline, update, status, asap, please, clarify, meeting, call, eod, follow up, "
        "ping, noted, will do, can you",
        (
            *BALANCE,
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
    insight(
        "workplace_collaboration",
        "Collaboration",
        "🛠️",
        "Who contributes what, how decisions get made, and how well the team works together.",
        "let's, we can, idea, proposal, review, feedback, decide, agreed, approve, owner, "
        "task, done, shared, doc, link",
        (*BALANCE, "links", "participants.questions"),
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
    insight(
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
)
