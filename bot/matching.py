"""The matcher: a citizen's question in, a Decision out (answer, clarify or escalate).

How it decides (the reasoning behind the thresholds is in the README, "How the matcher decides"):
- Every question variant and title of every entry is a small document of stems (bot.text), with
  synonyms folded onto one token per group ("электронная цифровая подпись" and "ЭЦҚ" become "эцп").
- A word's weight is its inverse entry frequency: a word in every second entry ("справка", "получить",
  "алу") tells little; a word of one entry ("несудимость") tells a lot. Function and filler words weigh 0.
- The question's words are mapped onto the vocabulary: exactly, by a prefix (inflection the stemmer
  missed) or by fuzzy similarity (typos). Latin words are read as they are, as the Russian keyboard
  layout and as transliteration, and the reading the vocabulary knows best wins. Words the knowledge
  base has never seen keep their full weight: they are evidence that the question is about something else.
- A variant's score is a weighted F-measure of how much of the question it explains and how much of
  it the question covers; an entry scores as its best variant. Answer when the best entry is sure and
  clearly ahead; offer a choice when a few are close; escalate to a librarian otherwise.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot import text as textnorm
from bot import wordinfo
from bot.knowledge import KnowledgeBase

# Calibrated on tests/data/eval.yaml and ../shared/eval/dev.yaml (see README). Scores are in [0, 1].
ANSWER_THRESHOLD = 0.48   # the best entry must score at least this to be answered outright ...
ANSWER_MARGIN = 0.06      # ... and lead the runner-up by at least this much
ANSWER_EVIDENCE = 0.4    # ... and match question words worth at least this (common words alone are not enough)
SURE_FIT = 0.7           # a best variant that fits this well needs a lead of only ...
SURE_MARGIN = 0.03       # ... this much over the runner-up, when it matched telling words (not only
SURE_EVIDENCE = 0.9      # "получить справку"): worth at least this much
ANSWER_TYPICAL = 0.1     # ... and use words typical of the entry, not only of one odd variant
CLARIFY_THRESHOLD = 0.49  # below this nothing fits: a librarian's question
CLARIFY_UNKNOWN_LIMIT = 0.3  # a question offered a choice must be mostly words the knowledge base uses
UNKNOWN_LIMIT = 0.4       # a question that is this much (by weight) words the knowledge base never uses is not ours
OFFER_MARGIN = 0.2        # an entry leading by this much is offered even when part of the question is unfamiliar ...
OFFER_UNKNOWN_LIMIT = 0.6  # ... unless the unfamiliar part is most of the question,
OFFER_FIT = 0.6           # ... when it fits well and two or more of the question's words are the knowledge base's
WEAK_OFFER_SCORE = 0.4    # below the clarify threshold, an entry scoring this much ...
WEAK_OFFER_MARGIN = 0.13  # ... and leading the runner-up by this much is still offered
ONE_WORD_SURE = 0.9       # a one-word question is answered when its entry fits it this well ...
ONE_WORD_SHARED = 0.7     # ... or no other entry scores this share of the best one's score; else a choice
CLARIFY_WINDOW = 0.15     # options offered are within this distance of the best one
MAX_OPTIONS = 3
TYPO_MAX_COUNT = 2        # a stem used at most this often in the knowledge base may be a misspelling ...
TYPO_SOURCE_MIN = 3       # ... of a stem used at least this often ...
TYPO_RATIO = 3            # ... and this many times more,
TYPO_FIX_CUTOFF = 85      # that sounds the same or is this similar (rapidfuzz ratio)
LONG_POSTINGS = 5000      # see Matcher.rank: never reached by the bundled knowledge base

FUZZY_CUTOFF = 80         # rapidfuzz ratio (0-100) for a typo to count as the word
PREFIX_MIN = 4            # a shared beginning of at least this many letters counts as the same word
DOC_IDF_SHARE = 0.5       # word weight: half inverse frequency over variants, half over entries
BETA = 0.8                # weighted F-measure: < 1 favours explaining the citizen's question over covering the variant
BLEND = 0.2               # share of the entry-level score (how typical the question's words are of the entry)
ASSOCIATION_SATURATION = 3.0  # a word used in a third of an entry's variants is fully typical of it

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


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float
    variant: str = ""  # the question variant or title that matched best
    fit: float = 0.0       # how well the best variant fits (weighted F-measure)
    typical: float = 0.0   # how typical the question's words are of the entry as a whole
    evidence: float = 0.0  # the weight of the question's words this variant matched (the rarest word weighs 1)


@dataclass(frozen=True)
class Term:
    """One word of the question as the matcher understood it."""

    word: str        # what the citizen typed (one token)
    key: str         # the vocabulary stem it was mapped to (or its own stem when unknown)
    similarity: float
    weight: float
    known: bool


@dataclass(frozen=True)
class Decision:
    decision: str                      # "answer" | "clarify" | "escalate"
    lang: str                          # "ru" | "kk"
    candidates: tuple[Candidate, ...]  # best first; for clarify: the options offered
    entry: str | None = None           # set when decision == "answer"
    reason: str = ""                   # "confident", "close-call", "unsure", "no-match", "no-words"
    terms: tuple[Term, ...] = field(default=(), compare=False)

    def to_json(self, question: str) -> dict:
        return {
            "question": question,
            "decision": self.decision,
            "entry": self.entry,
            "candidates": [{"id": c.id, "score": round(c.score, 4)} for c in self.candidates],
            "lang": self.lang,
        }


@dataclass
class _Document:
    entry: int
    text: str
    lang: str
    terms: frozenset[str]
    total: float


class Matcher:
    """An index over one knowledge base. Build once per knowledge base; `match` is safe to call concurrently."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._entry_ids = [entry.id for entry in kb.entries]
        self._fillers = {textnorm.stem(w, lang) for w in FILLER_WORDS.split() for lang in ("ru", "kk")}
        self._phrases = self._synonym_phrases(kb)
        # Pass 1: the words the knowledge base is written in. Latin words count only where they are
        # names used in titles and answers (egov, NCALayer, QR); a Latin question variant such as
        # "kak poluchit ecp" is read like any citizen's question, in pass 2.
        vocabulary: set[str] = set()
        texts: list[tuple[int, str, str]] = []
        for index, entry in enumerate(kb.entries):
            texts += [(index, lang, question) for lang, question in entry.all_questions()]
            texts += [(index, lang, title) for lang, title in entry.title.items()]
            for body in (*entry.title.values(), *entry.answer.values()):
                vocabulary.update(textnorm.stem(w) for w in textnorm.tokens(textnorm.clean(body)) if textnorm.is_latin(w))
        for _, lang, text in texts:
            vocabulary.update(textnorm.stem(w, lang) for w in textnorm.tokens(textnorm.clean(text)) if not textnorm.is_latin(w))
        for phrase in self._phrases:
            vocabulary.update(phrase)
        self._set_vocabulary(vocabulary)
        self._lang_words = self._language_words(texts)
        raw_docs = []
        for index, lang, text in texts:
            pairs, _ = self.read(text, lang)
            raw_docs.append((index, text, lang, [stem for _, stem in pairs]))
        # Pass 2: misspellings that editors wrote on purpose ("пасобие") are read as the word they
        # misspell, as a citizen's typo would be; the vocabulary is every stem left, and the synonyms'.
        counts = Counter(stem for *_, stems in raw_docs for stem in stems)
        protected = {word for phrase in self._phrases for word in phrase}
        fixes = self._typo_fixes(counts, protected)
        raw_docs = [(index, text, lang, [fixes.get(stem, stem) for stem in stems]) for index, text, lang, stems in raw_docs]
        vocabulary = {stem for *_, stems in raw_docs for stem in stems} | protected
        self._set_vocabulary(vocabulary, counts)

        entry_terms: list[dict[str, int]] = [defaultdict(int) for _ in kb.entries]
        folded_docs = []
        for index, question, lang, stems in raw_docs:
            terms = frozenset(t for t in self._fold_synonyms(stems) if t not in self._fillers)
            if not terms:
                continue
            folded_docs.append((index, question, lang, terms))
            for term in terms:
                entry_terms[index][term] += 1
        # Inverse frequency mixes two views: over entries (does the word tell entries apart?) and
        # over variants (is it a word every other question uses?).
        entries_count = max(len(kb.entries), 1)
        docs_count = max(len(folded_docs), 1)
        entry_df: dict[str, int] = defaultdict(int)
        doc_df: dict[str, int] = defaultdict(int)
        for terms in entry_terms:
            for term in terms:
                entry_df[term] += 1
        for *_, terms in folded_docs:
            for term in terms:
                doc_df[term] += 1
        def idf(term: str) -> float:
            by_entry = math.log(1 + entries_count / entry_df[term]) / math.log(1 + entries_count)
            by_doc = math.log(1 + docs_count / doc_df[term]) / math.log(1 + docs_count)
            return DOC_IDF_SHARE * by_doc + (1 - DOC_IDF_SHARE) * by_entry
        self._weight = {term: idf(term) for term in entry_df}
        self._unknown_weight = 1.0  # a word the knowledge base never uses weighs as much as the rarest one
        # How characteristic a word is of an entry: the share of the entry's variants that use it.
        documents_per_entry = [0] * len(kb.entries)
        for index, *_ in folded_docs:
            documents_per_entry[index] += 1
        self._association: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, terms in enumerate(entry_terms):
            for term, uses in terms.items():
                share = min(1.0, ASSOCIATION_SATURATION * uses / max(documents_per_entry[index], 1))
                self._association[term].append((index, share))
        self._documents: list[_Document] = []
        self._doc_entry: list[int] = []
        self._doc_total: list[float] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, question, lang, terms in folded_docs:
            doc_id = len(self._documents)
            total = sum(self._weight[t] for t in terms)
            self._documents.append(_Document(index, question, lang, terms, total))
            self._doc_entry.append(index)
            self._doc_total.append(total)
            for term in terms:
                self._postings[term].append(doc_id)

    # A built index pickles (bot.index_cache keeps one on disk); the per-process word cache is made anew.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lookup", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lookup = lru_cache(maxsize=50_000)(self._lookup_uncached)

    def _typo_fixes(self, counts: Counter, protected: set[str]) -> dict[str, str]:
        """Rare stems that are misspellings of a much more frequent one, mapped to it."""
        frequent = sorted(word for word, n in counts.items() if n >= TYPO_SOURCE_MIN and word not in self._fillers)
        by_sound: dict[str, str] = {}
        by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(frequent, key=lambda w: -counts[w]):
            by_sound.setdefault(textnorm.sound(word), word)
            by_initial[word[0]].append(word)
        fixes = {}
        for word, n in counts.items():
            if n > TYPO_MAX_COUNT or len(word) < 4 or word in protected or word.isascii():
                continue
            target = by_sound.get(textnorm.sound(word))
            if target is None:
                found = process.extractOne(word, by_initial.get(word[0], ()), scorer=fuzz.ratio, score_cutoff=TYPO_FIX_CUTOFF)
                target = found[0] if found else None
            if target is not None and target != word and counts[target] >= TYPO_RATIO * n:
                fixes[word] = target
        return fixes

    def _set_vocabulary(self, vocabulary: set[str], counts: Counter | None = None) -> None:
        vocabulary = vocabulary - self._fillers - {""}  # a stray letter ("узнат,ь") can leave an empty stem
        self._vocabulary = vocabulary
        self._sorted = sorted(vocabulary)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        self._by_second: dict[str, list[str]] = defaultdict(list)
        self._by_sound: dict[str, str] = {}
        for word in sorted(self._sorted, key=lambda w: -(counts or {}).get(w, 0)):
            self._by_sound.setdefault(textnorm.sound(word), word)  # the most frequent spelling wins
        for word in self._sorted:
            self._by_initial[word[0]].append(word)
            if len(word) >= 6:
                self._by_second[word[1]].append(word)
        self._lookup = lru_cache(maxsize=50_000)(self._lookup_uncached)

    # --- building ---------------------------------------------------------------------------

    @staticmethod
    def _synonym_phrases(kb: KnowledgeBase) -> dict[tuple[str, ...], tuple[str, ...]]:
        """Every synonym, as stems, mapped to the stems of its group's first term."""
        phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for group in kb.synonyms:
            canonical = tuple(textnorm.stems(group.canonical))
            for term in group.terms:
                for lang in ("ru", "kk"):
                    key = tuple(textnorm.stems(term, lang))
                    if key:
                        phrases.setdefault(key, canonical)
        return phrases

    @staticmethod
    def _language_words(texts: list[tuple[int, str, str]]) -> dict[str, set[str]]:
        """Words (folded, not stemmed) that only the Russian or only the Kazakh variants use."""
        by_lang: dict[str, set[str]] = {"ru": set(), "kk": set()}
        for _, lang, text in texts:
            by_lang[lang].update(textnorm.fold(w) for w in textnorm.tokens(textnorm.clean(text)))
        shared = by_lang["ru"] & by_lang["kk"]
        return {lang: words - shared for lang, words in by_lang.items()}

    def _fold(self, items: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
        """Replace every synonym (longest first) in (word, key, similarity) items with its group's first term.

        "жеке куәлік" becomes "удостоверение личности" (two words), so a variant that says only
        "удостоверение" still shares a word with it.
        """
        out = []
        i = 0
        while i < len(items):
            for size in range(min(4, len(items) - i), 0, -1):
                chunk = items[i:i + size]
                canonical = self._phrases.get(tuple(key for _, key, _ in chunk))
                if canonical is not None:
                    typed = " ".join(w for w, _, _ in chunk)
                    similarity = min(s for _, _, s in chunk)
                    out.extend((typed, key, similarity) for key in canonical)
                    i += size
                    break
            else:
                out.append(items[i])
                i += 1
        return out

    def _fold_synonyms(self, stems: list[str]) -> list[str]:
        return [key for _, key, _ in self._fold([(stem, stem, 1.0) for stem in stems])]

    # --- reading the question ---------------------------------------------------------------

    def _lookup_uncached(self, stem: str) -> tuple[str, float]:
        """The vocabulary word a stem stands for, with a similarity in [0, 1] (0: not known)."""
        if stem in self._vocabulary or stem in self._fillers:
            return stem, 1.0
        if len(stem) < 3 or stem.isdigit():
            return stem, 0.0
        # An abbreviation or short word with an ending attached: "цонга" is "цон", "иинымд" is "иин".
        for size in range(len(stem) - 1, 2, -1):
            if stem[size:] in ATTACHED_ENDINGS and stem[:size] in self._vocabulary:
                return stem[:size], 0.9
        # A misspelling that sounds the same: "тилифон", "министирств", "вастанов", "сат".
        same_sound = self._by_sound.get(textnorm.sound(stem))
        if same_sound is not None and abs(len(same_sound) - len(stem)) <= max(2, len(stem) // 3):
            return same_sound, 0.9  # (not "ыыыы...": it sounds like "е" once its letters are merged)
        best, best_score = stem, 0.0
        if len(stem) >= PREFIX_MIN:
            # Inflection the stemmer missed: a known word that the stem begins with, or that begins with it.
            for size in range(len(stem) - 1, max(PREFIX_MIN, len(stem) - 3) - 1, -1):
                if stem[:size] in self._vocabulary:
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
        if len(stem) >= 4:
            found = process.extractOne(stem, self._by_initial.get(stem[0], ()), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if found is None and len(stem) >= 6:
                # A typo in the first letter: look among the words that share the second one, more strictly.
                found = process.extractOne(stem, self._by_second.get(stem[1], ()), scorer=fuzz.ratio,
                                           score_cutoff=FUZZY_CUTOFF + 5)
            if found is not None:
                score = 0.55 + 0.35 * (found[1] - FUZZY_CUTOFF) / (100 - FUZZY_CUTOFF)
                if score > best_score:
                    best, best_score = found[0], score
        return best, best_score

    def _familiarity(self, stems: list[str]) -> float:
        meaningful = [s for s in stems if s not in self._fillers]
        if not stems:
            return -1.0
        if not meaningful:
            return 0.5  # only filler words: a plausible reading, nothing more
        return sum(self._lookup(s)[1] for s in meaningful) / len(meaningful)

    def meaningful_stems(self, question: str) -> set[str]:
        """The question's stems as the matcher reads them, without filler words (for grouping questions)."""
        pairs, _ = self.read(question)
        return {stem for _, stem in pairs if stem not in self._fillers}

    def read(self, question: str, lang: str | None = None) -> tuple[list[tuple[str, str]], str]:
        """The question as (typed word, stem) pairs, Latin words resolved; and its language."""
        raw = textnorm.raw_words(question)
        readings: list[list[list[str]]] = []  # per raw word: its possible readings as token lists
        for word in raw:
            if textnorm.is_latin(word):
                readings.append([textnorm.tokens(r) for r in textnorm.latin_readings(word)])
            else:
                readings.append([textnorm.tokens(word)])
        if lang is None:
            lang = self._detect_language(question, readings)
        pairs: list[tuple[str, str]] = []
        for options in readings:
            if len(options) == 1:
                pairs.extend((w, textnorm.stem(w, lang)) for w in options[0])
                continue
            best: list[tuple[str, str]] = []
            best_score = -1.0
            for words in options:
                stems = [textnorm.stem(w, lang) for w in words]
                score = self._familiarity(stems)
                if score > best_score + 1e-9:
                    best, best_score = list(zip(words, stems)), score
            pairs.extend(best)
        return pairs, lang

    def _detect_language(self, question: str, readings: list[list[list[str]]]) -> str:
        return self._language_votes(question, readings)[0]

    def language(self, question: str) -> tuple[str, bool]:
        """The question's language, and whether the question itself says so (Kazakh letters, or more words of
        one language than of the other); when not, a front end answers in the citizen's interface language."""
        readings = [[textnorm.tokens(r) for r in textnorm.latin_readings(word)] if textnorm.is_latin(word)
                    else [textnorm.tokens(word)] for word in textnorm.raw_words(question)]
        return self._language_votes(question, readings)

    def _language_votes(self, question: str, readings: list[list[list[str]]]) -> tuple[str, bool]:
        if textnorm.has_kazakh_letters(question):
            return "kk", True
        votes = {"ru": 0, "kk": 0}
        for options in readings:
            for words in options:
                for word in words:
                    folded = textnorm.fold(word)
                    for lang in votes:
                        votes[lang] += folded in self._lang_words[lang]
        return ("kk" if votes["kk"] > votes["ru"] else "ru"), votes["kk"] != votes["ru"]

    def terms(self, question: str) -> tuple[list[Term], str]:
        pairs, lang = self.read(question)
        mapped = []
        for word, stem in pairs:
            key, similarity = self._lookup(stem)
            mapped.append((word, key if similarity > 0 else stem, similarity))
        result: list[Term] = []
        seen: dict[str, int] = {}
        for word, key, similarity in self._fold(mapped):
            if key in self._fillers or (key.isdigit() and similarity == 0):
                continue  # function words; numbers the knowledge base never uses (years, amounts) say nothing
            known = similarity > 0 and key in self._weight
            weight = self._weight[key] if known else self._unknown_weight * (
                wordinfo.unknown_weight(word) if lang == "ru" else 1.0)
            if key in seen:  # a word said twice counts once, at its best reading
                if similarity > result[seen[key]].similarity:
                    result[seen[key]] = Term(word, key, similarity, weight, known)
                continue
            seen[key] = len(result)
            result.append(Term(word, key, similarity, weight, known))
        return result, lang

    # --- scoring ----------------------------------------------------------------------------

    def rank(self, terms: list[Term], *, leave_out: int | None = None, limit: int = 10) -> list[Candidate]:
        """The `limit` best entries, best first (only entries that share at least one word with the question)."""
        question_total = sum(t.weight for t in terms)
        if question_total <= 0:
            return []
        matched_q: dict[int, float] = defaultdict(float)
        matched_d: dict[int, float] = defaultdict(float)
        # Rarest words first. In a very large knowledge base, a word whose postings outnumber the
        # documents already reached only updates those: a document sharing nothing but the commonest
        # words with the question cannot win, and walking 10,000 postings would cost milliseconds.
        known = sorted((t for t in terms if t.known), key=lambda t: len(self._postings.get(t.key, ())))
        for term in known:
            weight = self._weight[term.key]
            postings = self._postings.get(term.key, ())
            if len(postings) > LONG_POSTINGS and 0 < len(matched_q) < len(postings):
                reached = [d for d in matched_q if term.key in self._documents[d].terms]
            else:
                reached = [d for d in postings if d != leave_out]
            for doc_id in reached:
                matched_q[doc_id] += term.similarity * weight
                matched_d[doc_id] += weight
        typical: dict[int, float] = defaultdict(float)
        for term in terms:
            if term.known:
                weight = self._weight[term.key] * term.similarity
                for entry, share in self._association.get(term.key, ()):
                    typical[entry] += weight * share
        # The best variant of each entry. Plain lists and locals: this loop runs over every reached document.
        beta2 = BETA * BETA
        doc_entry, doc_total = self._doc_entry, self._doc_total
        best_fit: dict[int, float] = {}
        best_doc: dict[int, int] = {}
        for doc_id, matched in matched_q.items():
            precision = matched / question_total
            recall = matched_d[doc_id] / doc_total[doc_id]
            fit = (1 + beta2) * precision * recall / (beta2 * recall + precision)
            entry = doc_entry[doc_id]
            if fit > best_fit.get(entry, -1.0):
                best_fit[entry] = fit
                best_doc[entry] = doc_id
        blended = {i: (1 - BLEND) * fit + BLEND * typical[i] / question_total for i, fit in best_fit.items()}
        ranked = []
        for i in heapq.nlargest(limit, blended, key=blended.__getitem__):
            doc_id = best_doc[i]
            ranked.append(Candidate(self._entry_ids[i], blended[i], self._documents[doc_id].text, best_fit[i],
                                    typical[i] / question_total, matched_q[doc_id]))
        ranked.sort(key=lambda c: (-c.score, c.id))
        return ranked

    def match(self, question: str) -> Decision:
        """Decide what to do with a question. Never raises on text; no words means no match."""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        terms, lang = self.terms(question[:4096])
        if not terms:
            return Decision("escalate", lang, (), None, "no-words", ())
        return decide(self.rank(terms), lang, tuple(terms))

    def documents(self) -> list[tuple[int, str, str]]:
        """(document number, entry id, text) of every indexed variant and title: for calibration."""
        return [(i, self._entry_ids[d.entry], d.text) for i, d in enumerate(self._documents)]


def decide(ranked: list[Candidate], lang: str, terms: tuple[Term, ...] = (),
           answer_threshold: float | None = None, answer_margin: float | None = None,
           clarify_threshold: float | None = None,
           unknown_limit: float | None = None, answer_evidence: float | None = None,
           clarify_unknown_limit: float | None = None, answer_typical: float | None = None) -> Decision:
    """Turn ranked candidates into a decision (thresholds overridable for calibration).

    Ranking uses the blended score; confidence uses the best variant's fit, the lead over the
    runner-up, and the share of the question made of words the knowledge base has never seen.
    """
    answer_threshold = ANSWER_THRESHOLD if answer_threshold is None else answer_threshold
    answer_margin = ANSWER_MARGIN if answer_margin is None else answer_margin
    clarify_threshold = CLARIFY_THRESHOLD if clarify_threshold is None else clarify_threshold
    unknown_limit = UNKNOWN_LIMIT if unknown_limit is None else unknown_limit
    answer_evidence = ANSWER_EVIDENCE if answer_evidence is None else answer_evidence
    clarify_unknown_limit = CLARIFY_UNKNOWN_LIMIT if clarify_unknown_limit is None else clarify_unknown_limit
    answer_typical = ANSWER_TYPICAL if answer_typical is None else answer_typical
    total = sum(t.weight for t in terms)
    unknown = sum(t.weight for t in terms if not t.known) / total if total else 0.0
    if not ranked:
        return Decision("escalate", lang, (), None, "no-match", terms)
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    known_words = sum(t.known for t in terms)
    if top.fit < clarify_threshold:
        # Nothing fits well; but an entry that leads the others clearly on two or more of the question's
        # words is worth offering (with "ask a librarian") rather than handing the citizen over unasked.
        if top.score >= WEAK_OFFER_SCORE and top.score - runner_up >= WEAK_OFFER_MARGIN and known_words >= 2:
            return Decision("clarify", lang, (top,), None, "weak-lead", terms)
        return Decision("escalate", lang, tuple(ranked[:MAX_OPTIONS]), None, "no-match", terms)
    # The best entry fits what the question says in the knowledge base's words and leads clearly, but part
    # of the question is unfamiliar ("справка о несудимости для Мадрида"): offer it, with "ask a librarian".
    offer = (top.fit >= OFFER_FIT and top.score - runner_up >= OFFER_MARGIN and top.evidence >= answer_evidence
             and unknown < OFFER_UNKNOWN_LIMIT and known_words >= 2)
    if unknown >= unknown_limit:
        if offer:
            return Decision("clarify", lang, (top,), None, "unfamiliar", terms)
        return Decision("escalate", lang, tuple(ranked[:MAX_OPTIONS]), None, "no-match", terms)
    if len(terms) == 1 and top.score < ONE_WORD_SURE and runner_up >= ONE_WORD_SHARED * top.score:
        # One word that several entries share ("пособие", "справка", "жәрдемақы"): a choice, never one answer.
        options = [c for c in ranked[:MAX_OPTIONS] if c.score >= ONE_WORD_SHARED * top.score]
        return Decision("clarify", lang, tuple(options), None, "one-word", terms)
    lead = top.score - runner_up
    if (top.fit >= answer_threshold and (lead >= answer_margin or (top.fit >= SURE_FIT and lead >= SURE_MARGIN
                                                              and top.evidence >= SURE_EVIDENCE))
            and top.evidence >= answer_evidence and top.typical >= answer_typical):
        return Decision("answer", lang, tuple(ranked[:MAX_OPTIONS]), top.id, "confident", terms)
    if unknown >= clarify_unknown_limit:  # not sure, and much of the question is foreign: a librarian's
        if offer:
            return Decision("clarify", lang, (top,), None, "unfamiliar", terms)
        return Decision("escalate", lang, tuple(ranked[:MAX_OPTIONS]), None, "no-match", terms)
    floor = top.score - CLARIFY_WINDOW
    options = [c for c in ranked[:MAX_OPTIONS] if c.score >= floor and c.fit >= clarify_threshold * 0.75]
    if len(options) < 2:
        if len(ranked) < 2:  # a choice of one is no choice: not sure enough to answer, so ask a librarian
            return Decision("escalate", lang, tuple(ranked), None, "no-match", terms)
        options = ranked[:2]
    reason = "close-call" if top.fit >= answer_threshold else "unsure"
    return Decision("clarify", lang, tuple(options), None, reason, terms)


def group_similar(questions: list[str], matcher: Matcher, threshold: float = 75.0) -> list[tuple[str, int, list[str]]]:
    """Questions grouped by similar wording, most frequent group first: (example, count, other wordings).

    Two questions are alike when their stems, as the matcher reads them, overlap by token-set ratio.
    """
    groups: list[tuple[str, list[str], list[str]]] = []  # (key, questions, distinct texts)
    for question in questions:
        key = " ".join(sorted(matcher.meaningful_stems(question)))
        if not key:
            continue
        for group_key, members, texts in groups:
            if fuzz.token_set_ratio(key, group_key) >= threshold:
                members.append(question)
                if question not in texts:
                    texts.append(question)
                break
        else:
            groups.append((key, [question], [question]))
    groups.sort(key=lambda g: -len(g[1]))
    return [(texts[0], len(members), texts[1:4]) for _, members, texts in groups]
