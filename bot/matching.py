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

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot import text as textnorm
from bot.knowledge import KnowledgeBase

# Calibrated on tests/data/eval.yaml and ../shared/eval/dev.yaml (see README). Scores are in [0, 1].
ANSWER_THRESHOLD = 0.62   # the best entry must score at least this to be answered outright ...
ANSWER_MARGIN = 0.10      # ... and lead the runner-up by at least this much
CLARIFY_THRESHOLD = 0.40  # below this nothing fits: a librarian's question
CLARIFY_WINDOW = 0.15     # options offered are within this distance of the best one
MAX_OPTIONS = 3

FUZZY_CUTOFF = 80         # rapidfuzz ratio (0-100) for a typo to count as the word
PREFIX_MIN = 4            # a shared beginning of at least this many letters counts as the same word
UNKNOWN_WEIGHT_FACTOR = 1.0  # weight of a never-seen word relative to the rarest known word
BETA = 1.3                # weighted F-measure: >1 favours explaining the citizen's whole question

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
мен сен ол біз сіз олар менің сенің оның біздің сіздің маған саған оған бізге сізге мені сені оны
және мен бен пен да де та те ма ме ба бе па пе ғой қой ше шы ау ей
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
        self._fillers = {textnorm.stem(w) for w in FILLER_WORDS.split()}
        self._phrases = self._synonym_phrases(kb)
        raw_docs: list[tuple[int, str, str, list[str]]] = []
        for index, entry in enumerate(kb.entries):
            for lang, question in entry.all_questions():
                raw_docs.append((index, question, lang, textnorm.stems(question)))
            for lang, title in entry.title.items():
                raw_docs.append((index, title, lang, textnorm.stems(title)))
        # The vocabulary is every stem that appears in a document or a synonym, before folding synonyms:
        # a typo is corrected towards a real word, then the word is folded onto its synonym group.
        vocabulary: set[str] = set()
        for _, _, _, stems in raw_docs:
            vocabulary.update(stems)
        for phrase in self._phrases:
            vocabulary.update(phrase)
        vocabulary -= self._fillers
        self._vocabulary = vocabulary
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(vocabulary):
            self._by_initial[word[0]].append(word)
        self._lang_words = self._language_words(raw_docs)

        entry_terms: list[set[str]] = [set() for _ in kb.entries]
        folded_docs = []
        for index, question, lang, stems in raw_docs:
            terms = frozenset(t for t in self._fold_synonyms(stems) if t not in self._fillers)
            if not terms:
                continue
            folded_docs.append((index, question, lang, terms))
            entry_terms[index].update(terms)
        count = max(len(kb.entries), 1)
        frequency: dict[str, int] = defaultdict(int)
        for terms in entry_terms:
            for term in terms:
                frequency[term] += 1
        self._weight = {term: math.log(1 + count / df) for term, df in frequency.items()}
        self._unknown_weight = math.log(1 + count) * UNKNOWN_WEIGHT_FACTOR
        self._documents: list[_Document] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, question, lang, terms in folded_docs:
            doc_id = len(self._documents)
            total = sum(self._weight[t] for t in terms)
            self._documents.append(_Document(index, question, lang, terms, total))
            for term in terms:
                self._postings[term].append(doc_id)
        self._lookup = lru_cache(maxsize=50_000)(self._lookup_uncached)

    # --- building ---------------------------------------------------------------------------

    @staticmethod
    def _synonym_phrases(kb: KnowledgeBase) -> dict[tuple[str, ...], str]:
        phrases: dict[tuple[str, ...], str] = {}
        for group in kb.synonyms:
            canonical = "_".join(textnorm.stems(group.canonical))
            for term in group.terms:
                key = tuple(textnorm.stems(term))
                if key:
                    phrases[key] = canonical
        return phrases

    def _language_words(self, raw_docs) -> dict[str, set[str]]:
        by_lang: dict[str, set[str]] = {"ru": set(), "kk": set()}
        for _, _, lang, stems in raw_docs:
            by_lang[lang].update(stems)
        shared = by_lang["ru"] & by_lang["kk"]
        return {lang: words - shared for lang, words in by_lang.items()}

    def _fold_synonyms(self, stems: list[str]) -> list[str]:
        """Replace every synonym phrase (longest first) with its group's canonical token."""
        if not self._phrases:
            return stems
        out = []
        i = 0
        longest = 4
        while i < len(stems):
            for size in range(min(longest, len(stems) - i), 0, -1):
                canonical = self._phrases.get(tuple(stems[i:i + size]))
                if canonical is not None:
                    out.append(canonical)
                    i += size
                    break
            else:
                out.append(stems[i])
                i += 1
        return out

    # --- reading the question ---------------------------------------------------------------

    def _lookup_uncached(self, stem: str) -> tuple[str, float]:
        """The vocabulary word a stem stands for, with a similarity in [0, 1] (0: not known)."""
        if stem in self._vocabulary:
            return stem, 1.0
        if len(stem) < 3 or stem.isdigit():
            return stem, 0.0
        best, best_score = stem, 0.0
        if len(stem) >= PREFIX_MIN:
            for word in self._by_initial.get(stem[0], ()):
                if len(word) >= PREFIX_MIN and (word.startswith(stem) or stem.startswith(word)):
                    shorter = min(len(word), len(stem))
                    score = 0.85 + 0.1 * shorter / max(len(word), len(stem))
                    if score > best_score:
                        best, best_score = word, score
        if len(stem) >= 4:
            cutoff = FUZZY_CUTOFF if len(stem) >= 6 else FUZZY_CUTOFF + 5
            pool = self._by_initial.get(stem[0], [])
            found = process.extractOne(stem, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is None and len(stem) >= 6:
                # A typo in the first letter: look among words of about the same length.
                found = process.extractOne(stem, self._vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff + 5)
            if found is not None:
                score = 0.5 + 0.4 * (found[1] - cutoff) / (100 - cutoff) + 0.05
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

    def read(self, question: str) -> tuple[list[tuple[str, str]], str]:
        """The question as (typed word, stem) pairs, Latin words resolved; and the detected language."""
        pairs: list[tuple[str, str]] = []
        kazakh_letters = textnorm.has_kazakh_letters(question)
        for raw in textnorm.raw_words(question):
            if textnorm.is_latin(raw):
                best: list[tuple[str, str]] = []
                best_score = -1.0
                for reading in textnorm.latin_readings(raw):
                    words = textnorm.tokens(reading)
                    stems = [textnorm.stem(w) for w in words]
                    score = self._familiarity(stems)
                    if score > best_score + 1e-9:
                        best, best_score = list(zip(words, stems)), score
                pairs.extend(best)
            else:
                pairs.extend((w, textnorm.stem(w)) for w in textnorm.tokens(raw))
        return pairs, self._detect_language(pairs, kazakh_letters)

    def _detect_language(self, pairs: list[tuple[str, str]], kazakh_letters: bool) -> str:
        if kazakh_letters:
            return "kk"
        votes = {"ru": 0, "kk": 0}
        for _, stem in pairs:
            for lang in votes:
                if stem in self._lang_words[lang]:
                    votes[lang] += 1
        return "kk" if votes["kk"] > votes["ru"] else "ru"

    def terms(self, question: str) -> tuple[list[Term], str]:
        pairs, lang = self.read(question)
        mapped: list[tuple[str, str, float]] = []
        for word, stem in pairs:
            if stem in self._fillers:
                continue
            key, similarity = self._lookup(stem)
            mapped.append((word, key if similarity > 0 else stem, similarity))
        folded = self._fold_synonyms([key for _, key, _ in mapped])
        if len(folded) == len(mapped):
            keys = folded
            sims = [s for _, _, s in mapped]
            words = [w for w, _, _ in mapped]
        else:  # a phrase was folded: recompute alignment phrase by phrase
            keys, sims, words = [], [], []
            i = 0
            for key in folded:
                size = 1
                if key != mapped[i][1]:
                    for candidate in range(4, 0, -1):
                        if self._phrases.get(tuple(k for _, k, _ in mapped[i:i + candidate])) == key:
                            size = candidate
                            break
                chunk = mapped[i:i + size]
                keys.append(key)
                sims.append(min(s for _, _, s in chunk))
                words.append(" ".join(w for w, _, _ in chunk))
                i += size
        result: list[Term] = []
        seen: dict[str, int] = {}
        for word, key, similarity in zip(words, keys, sims):
            known = similarity > 0 and key in self._weight
            weight = self._weight.get(key, self._unknown_weight) if known else self._unknown_weight
            if key in seen:  # a word said twice counts once, at its best reading
                previous = result[seen[key]]
                if similarity > previous.similarity:
                    result[seen[key]] = Term(word, key, similarity, weight, known)
                continue
            seen[key] = len(result)
            result.append(Term(word, key, similarity, weight, known))
        return result, lang

    # --- scoring ----------------------------------------------------------------------------

    def rank(self, terms: list[Term]) -> list[Candidate]:
        """Entries by score, best first (only entries that share at least one word with the question)."""
        question_total = sum(t.weight for t in terms)
        if question_total <= 0:
            return []
        matched_q: dict[int, float] = defaultdict(float)
        matched_d: dict[int, float] = defaultdict(float)
        for term in terms:
            if not term.known:
                continue
            weight = self._weight[term.key]
            for doc_id in self._postings.get(term.key, ()):
                matched_q[doc_id] += term.similarity * weight
                matched_d[doc_id] += weight
        best: dict[int, tuple[float, str]] = {}
        beta2 = BETA * BETA
        for doc_id, matched in matched_q.items():
            doc = self._documents[doc_id]
            precision = matched / question_total
            recall = matched_d[doc_id] / doc.total
            score = (1 + beta2) * precision * recall / (beta2 * recall + precision)
            current = best.get(doc.entry)
            if current is None or score > current[0]:
                best[doc.entry] = (score, doc.text)
        ranked = [Candidate(self._entry_ids[i], score, text) for i, (score, text) in best.items()]
        ranked.sort(key=lambda c: (-c.score, c.id))
        return ranked

    def match(self, question: str) -> Decision:
        """Decide what to do with a question. Never raises on text; no words means no match."""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        terms, lang = self.terms(question[:4096])
        if not terms:
            return Decision("escalate", lang, (), None, "no-words", ())
        ranked = self.rank(terms)
        if not ranked or ranked[0].score < CLARIFY_THRESHOLD:
            return Decision("escalate", lang, tuple(ranked[:MAX_OPTIONS]), None, "no-match", tuple(terms))
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= ANSWER_THRESHOLD and top.score - runner_up >= ANSWER_MARGIN:
            return Decision("answer", lang, tuple(ranked[:MAX_OPTIONS]), top.id, "confident", tuple(terms))
        options = [c for c in ranked[:MAX_OPTIONS] if c.score >= max(CLARIFY_THRESHOLD * 0.75, top.score - CLARIFY_WINDOW)]
        if len(options) < 2 and len(ranked) > 1:
            options = ranked[:2]
        reason = "close-call" if top.score >= ANSWER_THRESHOLD else "unsure"
        return Decision("clarify", lang, tuple(options), None, reason, tuple(terms))
