"""The insight types of the friendship category (product spec §2): two friends."""

from __future__ import annotations

from relivchats.domain.catalogue.insight_types import BALANCE, RHYTHM, InsightType, insight
from relivchats.domain.catalogue.schemas import LEVELS, choice, listing, per_person, record, text

SUPPORT_KINDS = ("emotional", "practical", "informational", "celebratory")

FRIENDSHIP_INSIGHTS: tuple[InsightType, ...] = (
    insight(
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
    insight(
        "friendship_support_dynamics",
        "Support Dynamics",
        "🤲",
        "How you support each other in hard times and good ones, and whether it is mutual.",
        "help, advice, what should I do, stressed, exam, interview, proud of you, congrats, "
        "you got this, need to talk, call, rough day, tension mat le",
        (*BALANCE, "participants.questions", "participants.avg_response_time"),
        """Map the support in this friendship: emotional support (listening, comforting),
        practical help (favours, logistics), informational support (advice, recommendations)
        and celebratory support (cheering each other's wins). For each friend, say which
        kinds of support they give, with a note grounded in the excerpts. Then judge
        reciprocity: balanced, leaning one way, or one-sided, remembering that support can
        be balanced over time even when a single crisis is not. Suggest how the one who
        gives more could ask for support, and how the other could offer it.""",
        support_given=per_person(support_types=listing(choice(*SUPPORT_KINDS), 0, 4), note=text()),
        reciprocity=record(
            balance=choice("balanced", "leans_one_way", "one_sided"), summary=text()
        ),
    ),
    insight(
        "friendship_vitality",
        "Friendship Vitality",
        "🔥",
        "The energy of your friendship over time: shared interests, inside jokes and rhythm.",
        "remember when, we should, let's meet, long time, missed you, plan, movie, match, "
        "game, party, trip, meme, haha, milte hain",
        (*RHYTHM, "messages_by_date", "top_words", "top_emoji"),
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
)
