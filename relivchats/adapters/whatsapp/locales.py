"""The words WhatsApp writes in an export, in the languages our users' phones speak.

Two kinds of words live here: the 12-hour markers of message headers ("PM", "p. m.", "م",
"अपराह्न", "오후") and the texts of WhatsApp's own lines (media placeholders, deletion notices, the
encryption notice, group joins and leaves). docs/chat-formats.md lists where each comes from.
Every entry is a regular expression fragment; matching is case-insensitive.
"""

from __future__ import annotations

# 12-hour markers as written after (or, in East Asian locales, before) the time. Latin forms
# come with and without dots and spaces ("PM", "pm", "p.m.", "p. m."); NFKC has already turned
# the no-break spaces phones put inside them into plain spaces.
MORNING_MARKERS = (
    r"a\.? ?m\.?",  # English, Spanish, Portuguese, Italian, Indonesian, Russian, ...
    r"पूर्वाह्न",  # Hindi
    r"ص",  # Arabic
    r"öö",  # Turkish
    r"vorm\.",  # German
    r"дп",  # Russian (Android, some versions)
    r"오전",  # Korean
    r"上午",  # Chinese
    r"午前",  # Japanese
    r"π\.μ\.",  # Greek
    r"ق\.ظ\.?",  # Persian
    r"পূর্বাহ্ণ",  # Bengali
)
AFTERNOON_MARKERS = (
    r"p\.? ?m\.?",
    r"अपराह्न",
    r"م",
    r"ös",
    r"nachm\.",
    r"пп",
    r"오후",
    r"下午",
    r"午後",
    r"μ\.μ\.",
    r"ب\.ظ\.?",
    r"অপরাহ্ণ",
)

# Android's placeholder for a message whose media was left out of the export, and iOS's
# per-type ones ("image omitted"), by language.
MEDIA_PLACEHOLDERS = (
    r"<[^<>\n]*omitted>",  # English, Android: <Media omitted>, <Video note omitted>
    r"(?:image|video|audio|sticker|GIF|document|Contact card|voice message|video note"
    r"|view once (?:photo|video|voice message)) omitted",
    r"[^\n]+ document omitted",  # iOS: "Trip plan.pdf • 3 pages document omitted"
    r"<Multimedia omitido>|(?:imagen|audio|video|sticker|GIF|documento) omitid[oa]",  # es
    r"<Mídia oculta>|<Arquivo de mídia oculto>"  # pt
    r"|(?:imagem|áudio|vídeo|figurinha|GIF) (?:ocultad[oa]|ocult[oa]|omitid[oa])",
    r"<Médias omis>|(?:image|audio|vidéo|autocollant|GIF) absente?",  # fr
    r"<Medien (?:ausgeschlossen|weggelassen)>|(?:Bild|Audio|Video|Sticker|GIF) weggelassen",  # de
    r"<Media omessi>|(?:immagine|audio|video|sticker|GIF) omess[oaie]",  # it
    r"<Media tidak disertakan>|(?:gambar|audio|video|stiker|GIF) tidak disertakan",  # id
    r"<Без медиафайлов>|(?:изображение|аудио|видео|стикер|GIF) отсутствует",  # ru
    r"<Medya dahil edilmedi>|(?:görüntü|ses|video|çıkartma|GIF) dahil edilmedi",  # tr
    r"<تم استبعاد الوسائط>|تم استبعاد (?:الصورة|الصوت|الفيديو|الملصق)",  # ar
    r"<मीडिया छोड़ दिया गया>|(?:इमेज|ऑडियो|वीडियो|स्टिकर) छोड़ दिया गया",  # hi
)

# Android's note after the file name of media exported with the chat, by language.
ATTACHMENT_NOTES = (
    "file attached",
    "archivo adjunto",
    "arquivo anexado",
    "fichier joint",
    "Datei angehängt",
    "file allegato",
    "file terlampir",
    "файл добавлен",
    "dosya ekli",
    "ملف مرفق",
    "फ़ाइल संलग्न",
)

# "This message was deleted" (someone else's) and "You deleted this message", by language;
# some versions end them with a full stop.
DELETION_NOTICES = (
    r"This message was deleted|You deleted this message",
    r"Se eliminó este mensaje|Este mensaje fue eliminado|Eliminaste este mensaje",  # es
    r"Mensagem apagada|Esta mensagem foi apagada|Você apagou esta mensagem",  # pt
    r"Ce message a été supprimé|Vous avez supprimé ce message",  # fr
    r"Diese Nachricht wurde gelöscht|Du hast diese Nachricht gelöscht",  # de
    r"Questo messaggio è stato eliminato|Hai eliminato questo messaggio",  # it
    r"Pesan ini telah dihapus|Anda menghapus pesan ini",  # id
    r"Данное сообщение удалено|Это сообщение удалено|Вы удалили данное сообщение",  # ru
    r"Bu mesaj silindi|Bu mesajı sildiniz",  # tr
    r"تم حذف هذه الرسالة|لقد حذفت هذه الرسالة",  # ar
    r"यह मैसेज हटा दिया गया था|आपने यह मैसेज हटा दिया",  # hi
)

# Call notices; a duration or "Tap to call back" may follow after a comma or a dot.
CALL_NOTICES = (
    r"(?:missed |silenced )?(?:group )?(?:voice|video) call",
    r"(?:Llamada|Videollamada) (?:perdida|de voz perdida)",  # es
    r"Chamada de (?:voz|vídeo) perdida",  # pt
    r"Appel (?:vocal|vidéo) manqué",  # fr
    r"Verpasster (?:Sprach|Video)anruf",  # de
    r"Chiamata (?:vocale|video) persa",  # it
    r"Panggilan (?:suara|video) tak terjawab",  # id
    r"Пропущенный (?:аудио|видео)звонок",  # ru
    r"Cevapsız (?:sesli|görüntülü) arama",  # tr
    r"مكالمة (?:صوتية|فيديو) فائتة",  # ar
    r"मिस्ड (?:वॉइस|वीडियो) कॉल",  # hi
)

# Phrases of WhatsApp's own group and security notices. iOS writes these as messages from the
# chat's name with an invisible mark before the text; only such lines are checked against them.
SYSTEM_PHRASES = (
    # English
    r"end-to-end encrypt",
    r"created (?:the )?group",
    r" (?:added|removed) ",
    r" left$",
    r"joined using (?:this group's|a group|an) invite link",
    r"You joined",
    r"changed (?:the subject|the group name|this group's icon|the group description)",
    r"changed (?:this group's|the group|their|the) (?:settings|phone number)",
    r"deleted this group's icon",
    r"security code (?:with [^\n]+ )?changed",
    r"now an admin",
    r"disappearing messages",
    r"This chat is with a business account",
    r" pinned a message",
    r"(?:un)?blocked this contact",
    r"uses a secure service from",
    # Spanish
    r"cifrados de extremo a extremo",
    r"creó el grupo",
    r" añadió a ",
    r" salió del grupo",
    r"se unió (?:usando|mediante) el enlace",
    r"Te uniste",
    # Portuguese
    r"criptografia de ponta a ponta",
    r"criou o grupo",
    r" adicionou ",
    r" saiu$",
    r"entrou usando o link",
    # French
    r"chiffrés de bout en bout",
    r"a créé le groupe",
    r" a ajouté ",
    r" est parti\(?e?\)?$",
    r"a rejoint (?:ce|le) groupe",
    # German
    r"Ende-zu-Ende-verschlüsselt",
    r"hat die Gruppe .{0,60}erstellt",
    r" hat .{1,60} hinzugefügt",
    r"hat die Gruppe verlassen",
    r"Einladungslink dieser Gruppe beigetreten",
    # Italian
    r"crittografati end-to-end",
    r"ha creato il gruppo",
    r" ha aggiunto ",
    r" è uscit[oa]$",
    r"si è unit[oa] tramite il link",
    # Indonesian
    r"terenkripsi secara end-to-end",
    r"membuat grup",
    r" menambahkan ",
    r" keluar$",
    r"bergabung menggunakan tautan",
    # Russian
    r"сквозным шифрованием",
    r"создал(?:\(-?а\)|а)? группу",
    r" добавил(?:\(-?а\)|а)? ",
    r" вышел(?:\(-?а\)|а)?$",
    r"присоединил(?:ся|ась|\(ся\)|\(а?сь\)|ся\(-ась\))? по ссылке",
    # Turkish
    r"uçtan uca şifreli",
    r"grubunu oluşturdu",
    r" ekledi$",
    r" ayrıldı$",
    r"davet bağlantısıyla katıldı",
    # Arabic
    r"مشفرة تمامًا بين الطرفين",
    r"أنشأ المجموعة",
    r" أضاف ",
    r" غادر$",
    r"انضم باستخدام رابط الدعوة",
    # Hindi
    r"एंड-टू-एंड एन्क्रिप्टेड",
    r"ने ग्रुप बनाया",
    r" ने .{1,60} को जोड़ा",
    r" ने ग्रुप छोड़ दिया",
    r"आमंत्रण लिंक से जुड़े",
)
# Enough of each encryption notice to recognise it without the invisible mark, which older
# exports and some tools lose.
ENCRYPTION_NOTICES = (
    r"Messages (?:and calls are|to this (?:group|chat) are now secured with) end-to-end encrypt",
    r"Los mensajes y las llamadas están cifrados",
    r"As mensagens e as chamadas são protegidas",
    r"Les messages et les appels sont chiffrés",
    r"Nachrichten und Anrufe sind Ende-zu-Ende",
    r"I messaggi e le chiamate sono crittografati",
    r"Pesan dan panggilan terenkripsi",
    r"Сообщения и звонки защищены",
    r"Mesajlar ve aramalar uçtan uca",
    r"الرسائل والمكالمات مشفرة",
    r"संदेश और कॉल एंड-टू-एंड",
)
