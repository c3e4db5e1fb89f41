"""The generated corpus of every layout and language, and WhatsApp's own lines in each language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relivchats.adapters.whatsapp import parse_chat_text
from relivchats.domain.uploads import MessageKind
from tests.fakes.chat_exports import STYLES, ExportStyle

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
LRM = "\u200e"


@pytest.mark.parametrize("style", STYLES, ids=lambda style: style.name)
def test_corpus_file_of_each_layout_and_language_gives_exactly_what_was_generated(
    style: ExportStyle,
) -> None:
    chat = parse_chat_text((CORPUS / f"{style.name}.txt").read_text(encoding="utf-8"))
    found = {
        "messages": len(chat),
        "participants": list(chat.participants),
        "first": chat.timestamps[0].item().isoformat(),
        "last": chat.timestamps[-1].item().isoformat(),
        "media": int((chat.kinds == MessageKind.MEDIA).sum()),
        "deleted": int((chat.kinds == MessageKind.DELETED).sum()),
    }
    assert found == EXPECTED[style.name]


def test_corpus_covers_every_language_on_android_and_ios() -> None:
    languages = {"en", "hi", "es", "pt", "fr", "de", "id", "ar", "ru", "tr", "it"}
    for platform in ("android", "ios"):
        covered = {s.locale.code for s in STYLES if s.platform == platform and s.name in EXPECTED}
        assert languages <= covered


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<Multimedia omitido>", MessageKind.MEDIA),
        ("<Mídia oculta>", MessageKind.MEDIA),
        ("<Médias omis>", MessageKind.MEDIA),
        ("<Medien ausgeschlossen>", MessageKind.MEDIA),
        ("<Без медиафайлов>", MessageKind.MEDIA),
        ("<Medya dahil edilmedi>", MessageKind.MEDIA),
        ("IMG-20240103-WA0001.jpg (archivo adjunto)", MessageKind.MEDIA),
        (f"{LRM}imagen omitida", MessageKind.MEDIA),
        (f"{LRM}Bild weggelassen", MessageKind.MEDIA),
        ("Se eliminó este mensaje.", MessageKind.DELETED),
        ("Diese Nachricht wurde gelöscht.", MessageKind.DELETED),
        ("Bu mesaj silindi", MessageKind.DELETED),
        ("تم حذف هذه الرسالة", MessageKind.DELETED),
        ("यह मैसेज हटा दिया गया था", MessageKind.DELETED),
        ("Verpasster Sprachanruf", MessageKind.CALL),
        (f"{LRM}Llamada perdida", MessageKind.CALL),
        ("Пропущенный видеозвонок", MessageKind.CALL),
        ("Mensagem apagada por engano, desculpa", MessageKind.TEXT),
    ],
)
def test_localized_media_deletion_and_call_notices_are_classified(
    text: str, kind: MessageKind
) -> None:
    chat = parse_chat_text(f"[03/01/2024, 08:00:00] Ben: {text}\n")
    assert list(chat.kinds) == [kind]


@pytest.mark.parametrize(
    "notice",
    [
        "Los mensajes y las llamadas están cifrados de extremo a extremo.",
        "Ana añadió a Ben",
        "Ben hat die Gruppe verlassen",
        "Asha ने Ben को जोड़ा",
        "Ben вышел(-а)",
        "Ben ayrıldı",
    ],
)
def test_localized_ios_group_notices_are_not_messages(notice: str) -> None:
    text = f"[03/01/2024, 08:00:00] Grupo: {LRM}{notice}\n[03/01/2024, 08:01:00] Ben: hola\n"
    assert [(m.sender, m.text) for m in parse_chat_text(text).messages()] == [("Ben", "hola")]
