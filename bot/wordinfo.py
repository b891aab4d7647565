"""How much a word the knowledge base never uses tells about a question, from the language at large.

A common verb or adverb ("требуется", "является", "осуществить", "находится") says little about what the
question is about; a noun, an adjective or a name ("Мадрид", "кино", "бешбармак") says a lot: most likely
that the question is about something the knowledge base does not cover. Russian words are read by the
pymorphy3 morphological analyser (part of speech, and its guess for words outside its dictionary) and
weighed by their general-language frequency from wordfreq. Both load lazily, on the first unknown word.
Kazakh has neither resource here: Kazakh words keep the full weight.
"""

from __future__ import annotations

from functools import cache, lru_cache

# Parts of speech weighed by frequency (pymorphy3's OpenCorpora tags): those that carry the question's grammar
# rather than its topic, and full adjectives: a common one ("общий", "новый") says little, a rare one
# ("шенгенский") a lot. Nouns and names always weigh fully.
BY_FREQUENCY_POS = frozenset({"VERB", "INFN", "PRTF", "PRTS", "GRND", "ADVB", "ADJS", "PRED", "PREP", "CONJ",
                         "PRCL", "INTJ", "NPRO", "COMP", "NUMR", "ADJF"})
ZIPF_COMMON = 5.5  # a word this frequent (Zipf scale: 6 is "и"-level, 3 is once per million words) ...
ZIPF_RARE = 3.0    # ... weighs MIN_WEIGHT; one this rare or rarer weighs as much as the rarest known word
MIN_WEIGHT = 0.15
RUSSIAN_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


@cache
def _analyser():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def _zipf():
    from functools import partial

    from wordfreq import zipf_frequency

    # The small list (the most frequent words, about 11 MiB in memory against 140 for the full one) is enough:
    # only frequent words are weighed down, and a word missing from it counts as rare, as it would anyway.
    return partial(zipf_frequency, wordlist="small")


def warm_up() -> None:
    """Load the analyser and the frequency list now (a bot process does it at start, off the event loop)."""
    unknown_weight("требуется")


@lru_cache(maxsize=100_000)
def unknown_weight(word: str) -> float:
    """The weight of a Russian word the knowledge base never uses: 1.0 for topic words (nouns, names, rare
    adjectives, anything rare), less for frequent grammar words (verbs, adverbs, pronouns ...) and common
    adjectives."""
    word = word.lower()
    if not word or not set(word) <= RUSSIAN_LETTERS:
        return 1.0
    parse = _analyser().parse(word)[0]
    if parse.tag.POS not in BY_FREQUENCY_POS:
        return 1.0
    zipf = max(_zipf()(word, "ru"), _zipf()(parse.normal_form, "ru"))
    share = (ZIPF_RARE - zipf) / (ZIPF_RARE - ZIPF_COMMON)  # 0 when rare, 1 when very common
    return max(MIN_WEIGHT, min(1.0, 1.0 - share * (1.0 - MIN_WEIGHT)))


@lru_cache(maxsize=10_000)
def is_russian_word(word: str) -> bool:
    """Whether pymorphy3's dictionary holds the word as written ("несудим" yes, "неработает" no)."""
    word = word.lower()
    return bool(word) and set(word) <= RUSSIAN_LETTERS and _analyser().word_is_known(word)
