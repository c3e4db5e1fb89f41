"""Words that say nothing about a chat, left out of its word counts and rankings.

English stopwords, Hindi and Hinglish function words, and the words of WhatsApp's own notices
(media placeholders, deletions, calls); `statistics` ignores every word in `IGNORED_WORDS`.
"""

from __future__ import annotations

ENGLISH_STOPWORDS = """about above after again against all also and any are aren because been
before being below between both but can cannot could couldn did didn does doesn doing don down
during each few for from further get got had hadn has hasn have haven having her here hers herself
him himself his how into isn its itself just let more most much must myself nor not now off once
only other our ours ourselves out over own same she should shouldn some such than that the their
theirs them themselves then there these they this those through till too under until upon very was
wasn were weren what when where which while who whom why will with won would wouldn you your yours
yourself yourselves yes yeah yep okay ohh hmm hmmm umm lol haha hahaha gonna wanna"""
# Only words of 3+ letters can count, so shorter function words ("ka", "से") need no entry.
HINDI_HINGLISH_FUNCTION_WORDS = """hai hain tha thi nahi nahin nhi kya kyu kyun kyon kaise kaisa
kaisi kahan jab tab abhi kuch koi sab bas haan accha acha achha theek thik matlab wala wali wale
mera meri mere tera teri tere uska uski uske apna apni apne hum tum aap yeh woh raha rahi rahe gaya
gayi gaye karo karna liye sath saath yaar bhai arey arre hota hoti hote mein main toh aur bhi
है हैं था थी थे नहीं क्या कुछ कोई यह वह हम तुम आप मेरा मेरी तेरा लिए साथ और"""
WHATSAPP_NOISE_WORDS = """media omitted deleted message messages missed call calls voice video
sticker image audio document gif attached file edited null http https www com contact card"""
IGNORED_WORDS = frozenset(
    " ".join((ENGLISH_STOPWORDS, HINDI_HINGLISH_FUNCTION_WORDS, WHATSAPP_NOISE_WORDS)).split()
)
