"""What people write that is not a question: the small-talk words of every interface language."""

from __future__ import annotations

from bot import locales
from bot import text as textnorm


def _word_set(words: str) -> frozenset[str]:
    return frozenset(textnorm.fold(w) for w in textnorm.tokens(textnorm.clean(words)))


def _locale_words(key: str) -> frozenset[str]:
    """One small-talk word list of every interface language together (a Kazakh citizen may say "ок")."""
    return frozenset().union(*(_word_set(locales.text(lang, key)) for lang in locales.UI_LANGUAGES))


class SmallTalkWords:
    """What people write that is not a question, from the locale files: thanks and acknowledgements,
    greetings, "I have a question", polite fillers, and the emoji that mean thanks."""

    def __init__(self) -> None:
        self.thanks = _locale_words("smalltalk_thanks")
        self.greeting = _locale_words("smalltalk_greeting")
        self.intent = _locale_words("smalltalk_intent")
        self.polite = _locale_words("smalltalk_polite")
        self.emoji = frozenset().union(*(locales.text(lang, "smalltalk_thanks_emoji").split()
                                         for lang in locales.UI_LANGUAGES))
        self.help = _word_set("помощь помочь помогли көмек көмегіңіз көмегіңізге help")
        self.known = self.thanks | self.greeting | self.intent | self.polite
        keys = ("smalltalk_thanks", "smalltalk_greeting", "smalltalk_intent", "smalltalk_polite")
        by_lang = {lang: frozenset().union(*(_word_set(locales.text(lang, key)) for key in keys))
                   for lang in locales.UI_LANGUAGES}
        # Per language: its words, and the words only the other languages use.
        self._languages = [(lang, words, self.known - words) for lang, words in by_lang.items()]

    def _words(self, message: str) -> frozenset[str]:
        """The message's words, a Latin-letter one as the known word it stands for (transliterated or typed in
        the wrong layout: "rahmet", "cgfcb,j")."""
        def reading(word: str) -> str:
            if word in self.known or not textnorm.is_latin(word):
                return word
            return next((r for r in map(textnorm.fold, textnorm.latin_readings(word)) if r in self.known), word)
        return frozenset(map(reading, _word_set(message)))

    def language(self, message: str) -> str | None:
        """The interface language whose words alone make up the message ("рахмет": kk), if only one fits."""
        words = self._words(message)
        fits = [lang for lang, own, others in self._languages if words & own and not words & others]
        return fits[0] if len(fits) == 1 else None

    def kind(self, message: str) -> str | None:
        """"thanks", "greeting", "digits", "no-words", or None for anything that may be a question."""
        stripped = message.strip()
        if stripped.isdigit():
            return "digits"
        words = self._words(message)
        if not words:
            return "thanks" if any(symbol in stripped for symbol in self.emoji) else "no-words"
        if not words <= self.known:
            return None
        if words & self.thanks and not (words & self.intent) - self.help:
            return "thanks"  # "большое спасибо за помощь", "рахмет сізге", "ок"
        return "greeting"  # "Здравствуйте, у меня вопрос", "мне нужна помощь", "алло"
