"""WhatsApp's own texts (media placeholders, deletion and group notices) in the languages the
generated exports are written in; docs/chat-formats.md says where each comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Locale:
    """WhatsApp's own texts in one language, as the phone writes them into an export."""

    code: str
    media_android: str
    media_ios: str
    deleted: str
    encrypted: str
    created_group: str  # {who} and {group}
    added: str  # {who} and {whom}
    left: str  # {who}


ENGLISH = Locale(
    "en",
    "<Media omitted>",
    "image omitted",
    "This message was deleted",
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them.",
    "{who} created group “{group}”",
    "{who} added {whom}",
    "{who} left",
)
LOCALES = {
    locale.code: locale
    for locale in (
        ENGLISH,
        Locale(
            "hi",
            "<मीडिया छोड़ दिया गया>",
            "इमेज छोड़ दिया गया",
            "यह मैसेज हटा दिया गया था",
            "संदेश और कॉल एंड-टू-एंड एन्क्रिप्टेड हैं. इस चैट के बाहर कोई भी, WhatsApp भी, उन्हें "
            "पढ़ या सुन नहीं सकता.",
            "{who} ने ग्रुप बनाया “{group}”",
            "{who} ने {whom} को जोड़ा",
            "{who} ने ग्रुप छोड़ दिया",
        ),
        Locale(
            "es",
            "<Multimedia omitido>",
            "imagen omitida",
            "Se eliminó este mensaje",
            "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de "
            "este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos.",
            "{who} creó el grupo “{group}”",
            "{who} añadió a {whom}",
            "{who} salió del grupo",
        ),
        Locale(
            "pt",
            "<Mídia oculta>",
            "imagem ocultada",
            "Mensagem apagada",
            "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e "
            "ficam somente entre você e os participantes desta conversa.",
            "{who} criou o grupo “{group}”",
            "{who} adicionou {whom}",
            "{who} saiu",
        ),
        Locale(
            "fr",
            "<Médias omis>",
            "image absente",
            "Ce message a été supprimé",
            "Les messages et les appels sont chiffrés de bout en bout. Aucune personne en "
            "dehors de ce chat, pas même WhatsApp, ne peut les lire ou les écouter.",
            "{who} a créé le groupe « {group} »",
            "{who} a ajouté {whom}",
            "{who} est parti",
        ),
        Locale(
            "de",
            "<Medien ausgeschlossen>",
            "Bild weggelassen",
            "Diese Nachricht wurde gelöscht",
            "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses "
            "Chats kann sie lesen oder anhören, nicht einmal WhatsApp.",
            "{who} hat die Gruppe „{group}“ erstellt",
            "{who} hat {whom} hinzugefügt",
            "{who} hat die Gruppe verlassen",
        ),
        Locale(
            "id",
            "<Media tidak disertakan>",
            "gambar tidak disertakan",
            "Pesan ini telah dihapus",
            "Pesan dan panggilan terenkripsi secara end-to-end. Tidak seorang pun di luar chat "
            "ini, termasuk WhatsApp, yang dapat membaca atau mendengarkannya.",
            "{who} membuat grup “{group}”",
            "{who} menambahkan {whom}",
            "{who} keluar",
        ),
        Locale(
            "ar",
            "<تم استبعاد الوسائط>",
            "تم استبعاد الصورة",
            "تم حذف هذه الرسالة",
            "الرسائل والمكالمات مشفرة تمامًا بين الطرفين. لا أحد خارج هذه الدردشة، ولا حتى "
            "واتساب، يمكنه قراءتها أو الاستماع إليها.",
            "{who} أنشأ المجموعة “{group}”",
            "{who} أضاف {whom}",
            "{who} غادر",
        ),
        Locale(
            "ru",
            "<Без медиафайлов>",
            "изображение отсутствует",
            "Данное сообщение удалено",
            "Сообщения и звонки защищены сквозным шифрованием. Никто вне этого чата, даже "
            "WhatsApp, не может их прочитать или прослушать.",
            "{who} создал(-а) группу «{group}»",
            "{who} добавил(-а) {whom}",
            "{who} вышел(-а)",
        ),
        Locale(
            "tr",
            "<Medya dahil edilmedi>",
            "görüntü dahil edilmedi",
            "Bu mesaj silindi",
            "Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp dahil olmak üzere bu sohbetin "
            "dışında bulunan hiç kimse onları okuyamaz veya dinleyemez.",
            "{who}, “{group}” grubunu oluşturdu",
            "{who}, {whom} kişisini ekledi",
            "{who} ayrıldı",
        ),
        Locale(
            "it",
            "<Media omessi>",
            "immagine omessa",
            "Questo messaggio è stato eliminato",
            "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di "
            "questa chat, nemmeno WhatsApp, può leggerli o ascoltarli.",
            "{who} ha creato il gruppo “{group}”",
            "{who} ha aggiunto {whom}",
            "{who} è uscito",
        ),
    )
}
