"""The insight types of the romantic category (product spec §2): two partners."""

from __future__ import annotations

from relivchats.domain.catalogue.insight_types import BALANCE, InsightType, insight
from relivchats.domain.catalogue.schemas import LEVELS, choice, listing, per_person, record, text

LOVE_LANGUAGES = (
    "words_of_affirmation",
    "quality_time",
    "acts_of_service",
    "receiving_gifts",
    "physical_touch",
)
CONFLICT_STYLES = ("collaborating", "compromising", "accommodating", "avoiding", "competing")
ALIGNMENT = ("aligned", "partly_aligned", "unclear", "divergent")

ROMANTIC_INSIGHTS: tuple[InsightType, ...] = (
    insight(
        "communication_basics",
        "Communication Basics",
        "💬",
        "Who reaches out, how quickly you answer, and how well you listen to each other.",
        "how was your day, call me, reply, seen, busy, talk later, listen, explain, "
        "what do you mean, ok, hmm, baat karo, sun na",
        (
            *BALANCE,
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
    insight(
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
    insight(
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
    insight(
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
    insight(
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
        planning_topics=listing(record(topic=text(), alignment=choice(*ALIGNMENT), note=text())),
        shared_goals=listing(text(), 0, 5),
        commitment_signals=listing(text(), 0, 5),
    ),
    insight(
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
)
