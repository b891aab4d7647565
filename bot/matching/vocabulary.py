"""Reading a question: its words as the index knows them.

- Latin words are read as they are, as the Russian keyboard layout and as transliteration, and the reading
  the vocabulary knows best wins.
- A stem the vocabulary lacks is mapped onto a known one: an abbreviation with an ending attached, a word
  that sounds the same, inflection the stemmer missed (a shared beginning), or a typo (fuzzy similarity).
- Synonyms are folded onto one token per group ("электронная цифровая подпись" and "ЭЦҚ" become "эцп").
- The language is Kazakh when the question has Kazakh letters, else the one whose words it uses more.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
import numpy as np
from rapidfuzz import fuzz, process

from bot import text as textnorm

FUZZY_CUTOFF = 80         # rapidfuzz ratio (0-100) for a typo to count as the word
FUZZY_BEST = 0.9          # the similarity of a typo at most (a fuzzy ratio of 100 maps to it)
PREFIX_MIN = 4            # a shared beginning of at least this many letters counts as the same word

# Endings that follow an abbreviation or a short word directly ("цонға", "иинымды", "эцпны", "иина").
ATTACHED_ENDINGS = frozenset("""
га ге ка ке на не да де та те ны ни ды ди ты ти н ын ин сы си ы и ым им ымды имди ымнын имнин
нын нин дын дин тын тин дан ден тан тен нан нен мен бен пен дагы деги тагы теги дагыны
а у ом ем е ов ами ах ой
""".split())

# Words that carry no meaning for matching (greetings, fillers, question words, pronouns), in both
# languages. They neither match nor count against a match.
FILLER_WORDS = """
а и или но да нет не ни же ли бы то это этот эта эти тот та те вот так там тут здесь как какой какая какие
каким каких что чтобы чем кто где куда откуда когда почему зачем сколько можно нужно надо нужен нужна хочу
хотел хотела хотим мне меня мой моя мои мое моего моей нам нас наш наша я мы вы ты он она они его ее их
вам вас ваш свой свою свои у в во на по о об от до из за для с со к ко при про через без под над
пожалуйста пж плиз подскажите подскажи скажите скажи помогите помоги объясните расскажите здравствуйте
здрасте привет добрый день вечер утро доброе спасибо благодарю срочно быстро очень просто вообще теперь
сейчас уже еще ещё есть был была было были будет буду если чтоб всем все всё весь вся также тоже либо
ну вопрос вопросы узнать интересует интересно знаю знать подскажет кто-нибудь какой-то ли ль
што шо че чё чо первый раз впервые стоит образом
прошу просим разъяснить разъясните разъяснение порядок порядке предоставить предоставьте информацию информация
сообщить сообщите осуществить осуществляется осуществления осуществление данный данная данного данной
физическим физическое физического
каким-либо является являются необходимо необходимы необходимые требуется требуются какие-либо соответствующий
возможно ли возможность имеется имеются вправе каков какова каковы
түсіндіріп беріңіз беруіңізді сұраймын тәртібі тәртібін ақпарат қажет
мен сен ол біз сіз олар менің сенің оның біздің сіздің маған саған оған бізге сізге мені сені оны
және мен бен пен да де та те ма ме ба бе па пе ғой қой ше шы ау ей
ға ге қа ке га ка на не ны ні ни ды ді ди ты ті ти нің ның нин нын дан ден тан тен нан нен ға ғы гы
қалай калай қайда кайда қашан кашан неге неліктен не қандай кандай қанша канша кім ким қай кай
керек бар жоқ жок болады бола ма болама ба бама ба ма осы сол бұл бул мына анау
сәлем салем сәлеметсіз салеметсиз рахмет рақмет өтінемін отинемин айтыңызшы айтыныз көмектесіңіз
көмектесиниз түсіндіріңіз білгім білу келеді ғана тек енді қазір
"""



def fillers() -> frozenset[str]:
    """The stems of the filler words, in both languages."""
    return frozenset(textnorm.stem(w, lang) for w in FILLER_WORDS.split() for lang in ("ru", "kk"))


Buckets = dict[str, dict[int, list[str]]]  # first (or second) letter -> word length -> words


def _bucket(words: Iterable[str], letter: int) -> Buckets:
    buckets: Buckets = {}
    for word in words:
        buckets.setdefault(word[letter], {}).setdefault(len(word), []).append(word)
    return buckets


def closest(word: str, buckets: dict[int, list[str]], cutoff: float,
            tie: Callable[[str], object]) -> tuple[str, float] | None:
    """The word of `buckets` most similar to `word` (rapidfuzz ratio >= cutoff), ties broken by `tie`.

    Only lengths that can reach the cutoff are compared: the ratio is at most 100 * (1 - d / (a + b)) for
    words of lengths a and b differing by d. The same result as one scan of every word, in a fraction of the time.
    """
    size = len(word)
    best: tuple[str, float] | None = None
    for length, choices in buckets.items():
        if abs(length - size) * 100 > (100 - cutoff) * (length + size):
            continue
        found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is not None and (best is None or found[1] > best[1]
                                  or (found[1] == best[1] and tie(found[0]) < tie(best[0]))):
            best = found[:2]
    return best


def stable_hash(text: str) -> int:
    """A 64-bit hash of a string, the same in every process (str's own hash is salted per process, and an
    index is pickled by one process and read by another)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


class HashedKeys:
    """A compact multimap from strings to numbers: the strings' stable hashes, sorted, beside their numbers
    (16 bytes a key instead of a string and a dict slot). `values(key)` gives the numbers stored under keys with
    key's hash in the order they were given; a caller that must be exact compares the keys it gets back."""

    def __init__(self, keys: Iterable[str], numbers: Iterable[int] | None = None) -> None:
        hashes = np.fromiter((stable_hash(key) for key in keys), dtype=np.int64)
        values = np.arange(len(hashes), dtype=np.int32) if numbers is None else np.fromiter(numbers, dtype=np.int32)
        order = np.argsort(hashes, kind="stable")
        self._hashes, self._values = hashes[order], values[order]

    def values(self, key: str) -> list[int]:
        h = stable_hash(key)
        return self._values[np.searchsorted(self._hashes, h, "left"):np.searchsorted(self._hashes, h, "right")].tolist()

    def __contains__(self, key: str) -> bool:
        h = stable_hash(key)
        at = int(np.searchsorted(self._hashes, h))
        return at < len(self._hashes) and int(self._hashes[at]) == h

    def __len__(self) -> int:
        return len(self._hashes)


def _alphabetical(word: str) -> str:
    return word


class Vocabulary:
    """The stems the index knows, and the known stem that a stem the citizen typed stands for."""

    def __init__(self, words: Iterable[str], filler_stems: frozenset[str], counts: Counter | None = None) -> None:
        # Not fillers, nor the empty stem a stray letter leaves ("узнат,ь"); one set built, not a copy per step.
        self.words = frozenset(words).difference(filler_stems, ("",))
        self.fillers = filler_stems
        self._sorted = sorted(self.words)
        self._by_initial = _bucket(self._sorted, 0)
        self._by_second = _bucket((w for w in self._sorted if len(w) >= 6), 1)
        sound = textnorm.uncached(textnorm.sound)  # each word once
        # Words by their sound, the most frequent spelling first: kept as numbers (a sorted array of the
        # sounds' hashes and, beside it, the words' places in _sorted), not as 100,000s of sound strings.
        by_frequency = sorted(range(len(self._sorted)), key=lambda i: -(counts or {}).get(self._sorted[i], 0))
        self._by_sound = HashedKeys([sound(self._sorted[i]) for i in by_frequency], by_frequency)

    def __contains__(self, stem: str) -> bool:
        return stem in self.words

    def lookup(self, stem: str) -> tuple[str, float]:
        """The vocabulary word a stem stands for, with a similarity in [0, 1] (0: not known)."""
        best, best_score, final = self.lookup_cheaply(stem)
        if not final:
            found = self._fuzzy(stem)
            if found is not None:
                score = 0.55 + 0.35 * (found[1] - FUZZY_CUTOFF) / (100 - FUZZY_CUTOFF)
                if score > best_score:
                    best, best_score = found[0], score
        return best, best_score

    def lookup_cheaply(self, stem: str) -> tuple[str, float, bool]:
        """lookup() without the fuzzy search: (word, similarity, final). When not final, the fuzzy search may
        still find a better word, of similarity at most FUZZY_BEST."""
        if stem in self.words or stem in self.fillers:
            return stem, 1.0, True
        if len(stem) < 3 or stem.isdigit():
            return stem, 0.0, True
        # An abbreviation or short word with an ending attached: "цонга" is "цон", "иинымд" is "иин".
        for size in range(len(stem) - 1, 2, -1):
            if stem[size:] in ATTACHED_ENDINGS and stem[:size] in self.words:
                return stem[:size], 0.9, True
        # A misspelling that sounds the same: "тилифон", "министирств", "вастанов", "сат".
        # The most frequent word that sounds so (a word whose sound only shares the hash is skipped).
        key = textnorm.sound(stem)
        same_sound = next((word for word in map(self._sorted.__getitem__, self._by_sound.values(key))
                           if textnorm.sound(word) == key), None)
        if same_sound is not None and abs(len(same_sound) - len(stem)) <= max(2, len(stem) // 3):
            return same_sound, 0.9, True  # (not "ыыыы...": it sounds like "е" once its letters are merged)
        best, best_score = stem, 0.0
        if len(stem) >= PREFIX_MIN:
            # Inflection the stemmer missed: a known word that the stem begins with, or that begins with it.
            for size in range(len(stem) - 1, max(PREFIX_MIN, len(stem) - 3) - 1, -1):
                if stem[:size] in self.words:
                    best, best_score = stem[:size], 0.75 + 0.2 * size / len(stem)
                    break
            start = bisect.bisect_left(self._sorted, stem)
            for word in self._sorted[start:start + 8]:
                if not word.startswith(stem):
                    break
                if len(word) - len(stem) <= 2:
                    score = 0.75 + 0.2 * len(stem) / len(word)
                    if score > best_score:
                        best, best_score = word, score
                    break
        return best, best_score, len(stem) < 4

    def _fuzzy(self, stem: str) -> tuple[str, float] | None:
        found = closest(stem, self._by_initial.get(stem[0], {}), FUZZY_CUTOFF, _alphabetical)
        if found is None and len(stem) >= 6:
            # A typo in the first letter: look among the words that share the second one, more strictly.
            found = closest(stem, self._by_second.get(stem[1], {}), FUZZY_CUTOFF + 5, _alphabetical)
        return found
