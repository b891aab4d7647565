"""Building the index of one knowledge base, as named steps.

1. variants: every question variant and title of every entry is a small document, in its language;
2. first vocabulary: the stems the knowledge base is written in (Latin words only where titles and answers
   use them as names: egov, NCALayer, QR; a Latin variant such as "kak poluchit ecp" is read like a citizen's
   question, in step 3);
3. reading: each variant is read as a question would be (bot.matching.reading);
4. typo fixes: rare stems that misspell a much more frequent one ("пасобие") become that one;
5. synonyms folded, filler words dropped: each document is a set of terms;
6. weights: a term's inverse frequency, half over variants and half over entries (a word in every second
   entry tells little; a word of one entry tells a lot); how typical a term is of each entry; postings.

The result is plain data: numpy arrays with one row per term stored end to end, a dict from term to row, and
lists of strings; compact enough for thousands of entries and quick to pickle (bot.index_cache keeps it on disk).
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import chain, count, filterfalse
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from bot import text as textnorm
from bot.knowledge import KnowledgeBase
from bot.matching.reading import Phrases, Reader
from bot.matching.rows import SLICE, Rows, grouped
from bot.matching.vocabulary import HashedKeys, Vocabulary, fillers

TYPO_MAX_COUNT = 2        # a stem used at most this often in the knowledge base may be a misspelling ...
TYPO_SOURCE_MIN = 3       # ... of a stem used at least this often ...
TYPO_RATIO = 3            # ... and this many times more,
TYPO_FIX_CUTOFF = 85      # that sounds the same or is this similar (rapidfuzz ratio)
PREFIX = 3                # ... and begins the same (or is one letter away)
_NEIGHBOUR_BATCH = 16_384  # rare words whose one-letter neighbours are looked up at once
DOC_IDF_SHARE = 0.5       # word weight: half inverse frequency over variants, half over entries
ASSOCIATION_SATURATION = 3.0  # a word used in a third of an entry's variants is fully typical of it

_LATIN = re.compile("[a-z]")


@dataclass
class Index:
    entry_ids: list[str]
    reader: Reader
    term_number: dict[str, int]  # term -> its row in weight, association and postings
    weight: np.ndarray           # term row -> weight (the rarest term weighs about 1)
    association: Rows            # term row -> entries using it, ascending; values: how typical it is of each (0-1)
    postings: Rows               # term row -> documents using it, ascending
    doc_entry: np.ndarray        # document -> its entry (non-decreasing: documents come entry by entry)
    doc_total: np.ndarray        # document -> the summed weight of its terms
    doc_text: list[str]          # document -> the variant or title

    def weight_of(self, term: str) -> float | None:
        """A term's weight, None for a term the knowledge base never uses."""
        row = self.term_number.get(term)
        return None if row is None else float(self.weight[row])


class _Variants:
    """Every question variant and title of the knowledge base, its words numbered: one flat array of word
    numbers rather than a tuple of strings per variant (a large knowledge base has 300,000 variants)."""

    def __init__(self) -> None:
        self.entry, self.latin, self.lang, self.text = array("i"), array("b"), [], []
        self.words = array("i")     # word numbers, variant after variant
        self.ends = array("q")      # variant -> where its words end in `words`
        self.numbers: dict[str, dict[str, int]] = {}  # language -> word -> number (stemmed in its language)

    def bounds(self, variant: int) -> tuple[int, int]:
        return (self.ends[variant - 1] if variant else 0), self.ends[variant]


class _Stems:
    """Stems of the Latin variants' words, each stemmed once (the process-wide stem cache is sized for
    citizens' questions, not for a whole knowledge base)."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {"ru": {}, "kk": {}}
        self._stem = textnorm.uncached(textnorm.stem)

    def __call__(self, word: str, lang: str = "ru") -> str:
        known = self._known[lang]
        found = known.get(word)
        if found is None:
            found = known[word] = self._stem(word, lang)
        return found


class _StemTable:
    """Stems numbered, each one string object: documents are arrays of stem numbers until they are folded."""

    def __init__(self) -> None:
        self.number: dict[str, int] = {}
        self.text: list[str] = []

    def add(self, stem: str) -> int:
        found = self.number.get(stem)
        if found is None:
            found = self.number[stem] = len(self.text)
            self.text.append(stem)
        return found


def build_index(kb: KnowledgeBase) -> Index:
    filler_stems = fillers()
    phrases = synonym_phrases(kb)
    variants = collect_variants(kb)
    lang_words = language_words(variants)
    table = _StemTable()
    first_words, word_stem = first_vocabulary(kb, variants, phrases, table)
    # Every variant's stem numbers in its words' places (a Latin variant's are replaced by its reading): the
    # words themselves are not needed any more, and at x100 they are 250,000 strings.
    docs = word_stem[np.frombuffer(variants.words, np.int32)]
    del word_stem
    variants.words, variants.numbers = array("i"), {}
    first = Reader(Vocabulary(chain(table.text, first_words), filler_stems), phrases, lang_words)
    del first_words
    latin_docs = read_variants(first, variants, table)
    del first
    used = _stem_counts(variants, docs, latin_docs, len(table.text))
    counts = Counter({table.text[stem]: n for stem, n in enumerate(used) if n})
    del used
    protected = {word for phrase in phrases for word in phrase}
    fixes = typo_fixes(counts, protected, filler_stems)
    vocabulary = Vocabulary({fixes.get(stem, stem) for stem in counts} | protected, filler_stems, counts)
    del counts
    reader = Reader(vocabulary, phrases, lang_words)
    documents = _Documents()
    spell = table.text.__getitem__
    for number in range(len(variants.text)):
        ids = latin_docs.pop(number, None)
        if ids is None:
            ids = docs[slice(*variants.bounds(number))].tolist()
        doc = tuple(map(spell, ids))
        if fixes:
            doc = tuple(map(fixes.get, doc, doc))
        terms = dict.fromkeys(filterfalse(filler_stems.__contains__, reader.fold_stems(doc)))
        documents.add(variants.entry[number], variants.text[number], terms)
    del docs, variants, table
    return weigh(kb, reader, documents)


class _Documents:
    """The documents (variants with terms), as flat arrays: each one's entry, text and term numbers. Terms
    are numbered as first used; a tuple per document would cost more than the numbers it holds. Documents
    come entry by entry, so how many of an entry's documents use each term is counted as they come: one
    association item (term, entry, uses) per term of each entry, without regrouping the postings later."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.terms, self.sizes, self.entries, self.texts = array("i"), array("i"), array("i"), []
        # Association items, entry by entry: the term and how many of the entry's documents use it; how many
        # items each entry has.
        self.assoc_terms, self.assoc_uses, self.assoc_counts = array("i"), array("i"), array("i")
        self._entry, self._uses = 0, Counter()

    def add(self, entry: int, text: str, terms: dict[str, None]) -> None:
        if terms:  # a variant of filler words only is no document
            if entry != self._entry:
                self.finish(entry)
            numbers = self.numbers
            mine = [numbers.setdefault(term, len(numbers)) for term in terms]
            self.terms.extend(mine)
            self._uses.update(mine)
            self.sizes.append(len(terms))
            self.entries.append(entry)
            self.texts.append(text)

    def finish(self, entry: int) -> None:
        """Write out the association items of the entries before `entry` (those without documents have none)."""
        uses = self._uses
        self.assoc_terms.extend(uses.keys())
        self.assoc_uses.extend(uses.values())
        self.assoc_counts.append(len(uses))
        self.assoc_counts.extend([0] * (entry - self._entry - 1))
        self._entry, self._uses = entry, Counter()


def synonym_phrases(kb: KnowledgeBase) -> Phrases:
    """Every synonym, as stems, mapped to the stems of its group's first term."""
    phrases: Phrases = {}
    for group in kb.synonyms:
        canonical = tuple(textnorm.stems(group.canonical))
        for term in group.terms:
            for lang in ("ru", "kk"):
                key = tuple(textnorm.stems(term, lang))
                if key:
                    phrases.setdefault(key, canonical)
    return phrases


def collect_variants(kb: KnowledgeBase) -> _Variants:
    variants = _Variants()
    number = count()
    # A word's number is made the first time it is looked up (a defaultdict of a counter): no call per word.
    numbers = {lang: defaultdict(number.__next__) for lang in ("ru", "kk")}
    for index, entry in enumerate(kb.entries):
        for lang, text in (*entry.all_questions(), *entry.title.items()):
            cleaned = textnorm.clean(text)
            variants.words.extend(map(numbers[lang].__getitem__, textnorm.tokens(cleaned)))
            variants.ends.append(len(variants.words))
            variants.entry.append(index)
            variants.latin.append(_LATIN.search(cleaned) is not None)
            variants.lang.append(lang)
            variants.text.append(text)
    for words in numbers.values():
        words.default_factory = None  # a plain dict from now on (not copied: 100,000s of words)
    variants.numbers = numbers
    return variants


def language_words(variants: _Variants) -> dict[str, HashedKeys]:
    """Words (folded, not stemmed) that only the Russian or only the Kazakh variants use, by their hashes
    (a Kazakh word that shares its 64-bit hash with a Russian one is as unlikely as it would be harmless)."""
    fold = textnorm.fold
    # Most words fold to themselves: keep the word's own string rather than an equal copy of it.
    folded = {lang: {w if (f := fold(w)) == w else f for w in words} for lang, words in variants.numbers.items()}
    shared = folded["ru"] & folded["kk"]
    return {lang: HashedKeys(w for w in words if w not in shared) for lang, words in folded.items()}


def first_vocabulary(kb: KnowledgeBase, variants: _Variants, phrases: Phrases,
                     table: _StemTable) -> tuple[set[str], np.ndarray]:
    """The stems of the variants' words (Latin words aside) go into the table; returned: the stems of the Latin
    words of titles and answers and of synonyms, and each word's stem number (-1 for a Latin word: read
    later, with its variant)."""
    stem = textnorm.uncached(textnorm.stem)
    word_stem = np.full(sum(len(words) for words in variants.numbers.values()), -1, dtype=np.int32)
    for lang, words in variants.numbers.items():
        for word, number in words.items():
            if not textnorm.is_latin(word):
                word_stem[number] = table.add(stem(word, lang))
    vocabulary = set()  # besides the table's stems
    bodies = {body for entry in kb.entries for body in (*entry.title.values(), *entry.answer.values())}
    for body in bodies:
        vocabulary.update(stem(w) for w in textnorm.tokens(textnorm.clean(body)) if textnorm.is_latin(w))
    for phrase in phrases:
        vocabulary.update(phrase)
    return vocabulary, word_stem


def read_variants(reader: Reader, variants: _Variants, table: _StemTable) -> dict[int, array]:
    """The stem numbers of each Latin variant, read as a citizen's question would be (Latin words resolved)."""
    stems = _Stems()
    latin = {}
    for number in np.flatnonzero(np.frombuffer(variants.latin, np.int8)).tolist():
        pairs, _ = reader.read(variants.text[number], variants.lang[number], stem=stems)
        latin[number] = array("i", [table.add(stem) for _, stem in pairs])
    return latin


def _stem_counts(variants: _Variants, docs: np.ndarray, latin: dict[int, array], size: int) -> list[int]:
    """How many times the documents use each stem number (a Latin variant's are those of its reading)."""
    ends = np.frombuffer(variants.ends, np.int64)
    in_latin = np.repeat(np.frombuffer(variants.latin, np.int8).astype(bool), np.diff(ends, prepend=0))
    counts = np.bincount(docs[~in_latin], minlength=size)
    if latin:
        counts += np.bincount(np.fromiter((s for stems in latin.values() for s in stems), np.int64), minlength=size)
    return counts.tolist()


def typo_fixes(counts: Counter, protected: set[str], filler_stems: frozenset[str]) -> dict[str, str]:
    """Rare stems that are misspellings of a much more frequent one, mapped to it.

    A misspelling is a word that sounds the same, or that is similar enough (TYPO_FIX_CUTOFF) and either
    begins with the same three letters (an ending the stemmer missed: "кредитов", "регистрирац") or is one
    letter added, dropped or changed away (found through an index of one-letter deletions).
    """
    frequent = sorted(word for word, n in counts.items() if n >= TYPO_SOURCE_MIN and word not in filler_stems)
    frequent.sort(key=lambda w: -counts[w])  # the most frequent first (alphabetical among equals)
    sound = textnorm.uncached(textnorm.sound)  # each word once
    by_sound: dict[str, str] = {}
    by_prefix: dict[str, list[str]] = defaultdict(list)
    deletions = _DeletionIndex()
    for number, word in enumerate(frequent):
        by_sound.setdefault(sound(word), word)
        by_prefix[word[:PREFIX]].append(word)
        deletions.add(word, number)
    fixes = {}
    unheard = []  # rare words that sound like no frequent one: their one-letter neighbours, looked up at once
    for word, n in counts.items():
        if n > TYPO_MAX_COUNT or len(word) < 4 or word in protected or word.isascii():
            continue
        target = by_sound.get(sound(word))
        if target is None:
            unheard.append(word)
        elif target != word and counts[target] >= TYPO_RATIO * counts[word]:
            fixes[word] = target
    for word, neighbours in zip(unheard, deletions.neighbours(unheard)):
        near = {frequent[c] for c in neighbours if frequent[c][0] == word[0]}
        near.update(by_prefix.get(word[:PREFIX], ()))
        scored = [(-fuzz.ratio(word, c), -counts[c], c) for c in near]
        best = min((s for s in scored if -s[0] >= TYPO_FIX_CUTOFF), default=None)  # most similar, most used
        if best is not None and best[2] != word and counts[best[2]] >= TYPO_RATIO * counts[word]:
            fixes[word] = best[2]
    return fixes


class _DeletionIndex:
    """Words by the hashes of their one-letter deletions (a hash collision only adds a candidate), as two
    flat arrays: a dict of lists over a large knowledge base's words would be its largest structure."""

    def __init__(self) -> None:
        self._keys, self._owners = array("q"), array("i")

    def add(self, word: str, number: int) -> None:
        keys = _deletions(word)
        self._keys.extend(keys)
        self._owners.extend([number] * len(keys))

    def neighbours(self, words: list[str]) -> Iterator[list[int]]:
        """For each word, the numbers of the added words sharing a deletion with it (looked up a batch of words
        at a time, and made one word at a time: all of them at once, as arrays or Python lists, would be the
        largest structures of the build)."""
        keys = np.frombuffer(self._keys, np.int64)
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], np.frombuffer(self._owners, np.int32)[order]
        del order
        for low in range(0, len(words), _NEIGHBOUR_BATCH):
            yield from self._neighbours(keys, owners, words[low:low + _NEIGHBOUR_BATCH])

    @staticmethod
    def _neighbours(keys: np.ndarray, owners: np.ndarray, words: list[str]) -> Iterator[list[int]]:
        query, sizes = array("q"), array("i")
        for word in words:
            mine = _deletions(word)
            query.extend(mine)
            sizes.append(len(mine))
        query_np = np.frombuffer(query, np.int64)
        low, high = np.searchsorted(keys, query_np, "left"), np.searchsorted(keys, query_np, "right")
        hit = np.flatnonzero(high > low)
        found = (high - low)[hit]
        # Every (query, matching owner) pair: the matches of query k are owners[low[k]:high[k]].
        positions = np.arange(found.sum()) - np.repeat(np.cumsum(found) - found, found) + np.repeat(low[hit], found)
        asker = np.repeat(np.repeat(np.arange(len(words)), np.frombuffer(sizes, np.int32))[hit], found)
        mine_owners = owners[positions]
        bounds = np.searchsorted(asker, np.arange(len(words) + 1)).tolist()  # asker is ascending
        del query_np, query, sizes, low, high, hit, found, positions, asker
        for word in range(len(words)):
            yield mine_owners[bounds[word]:bounds[word + 1]].tolist()


def weigh(kb: KnowledgeBase, reader: Reader, documents: _Documents) -> Index:
    """Term weights, how typical each term is of each entry, and the postings (documents come entry by entry).
    At x100 the postings are millions of numbers: they are regrouped and summed a slice at a time."""
    count, entries_count = len(documents.numbers), max(len(kb.entries), 1)
    documents.finish(entries_count)
    terms = np.frombuffer(documents.terms, np.int32)
    doc_entry = np.frombuffer(documents.entries, np.int32).copy()
    sizes = np.frombuffer(documents.sizes, np.int32)
    ends = np.zeros(len(doc_entry) + 1, dtype=np.int64)  # document -> where its terms end in `terms`
    np.cumsum(sizes, out=ends[1:])
    # How characteristic a word is of an entry: the share of the entry's variants that use it.
    variants_of = np.bincount(doc_entry, minlength=entries_count).astype(np.float64)
    assoc_entries = np.repeat(np.arange(entries_count, dtype=np.int32), np.frombuffer(documents.assoc_counts, np.int32))
    assoc_uses = np.frombuffer(documents.assoc_uses, np.int32)
    assoc_start, (assoc_entry, uses) = grouped(
        np.frombuffer(documents.assoc_terms, np.int32), count,
        [assoc_entries.__getitem__, assoc_uses.__getitem__], [np.dtype(np.int32), np.dtype(np.int32)])
    del assoc_entries, assoc_uses
    documents.assoc_terms = documents.assoc_uses = documents.assoc_counts = array("i")
    shares = np.minimum(1.0, ASSOCIATION_SATURATION * uses / variants_of[assoc_entry])
    del uses, variants_of
    # Postings: documents grouped by term, ascending. The document of the terms[k]: the one whose terms end after k.
    start, (post_docs,) = grouped(terms, count, [lambda part: np.searchsorted(
        ends, np.arange(*part.indices(len(terms))), "right") - 1], [np.dtype(np.int32)])
    doc_df, entry_df = np.diff(start).tolist(), np.diff(assoc_start).tolist()  # term -> documents, entries using it
    docs_count = max(len(doc_entry), 1)
    log_entries, log_docs = math.log(1 + entries_count), math.log(1 + docs_count)
    # math.log, not np.log: the weights are the same to the last bit on every platform.
    weight = np.array([DOC_IDF_SHARE * (math.log(1 + docs_count / in_docs) / log_docs)
                       + (1 - DOC_IDF_SHARE) * (math.log(1 + entries_count / in_entries) / log_entries)
                       for in_docs, in_entries in zip(doc_df, entry_df)], dtype=np.float64)
    del doc_df, entry_df
    # bincount adds each document's weights in the order of its terms, as a plain sum would; a slice of
    # documents at a time.
    doc_total = np.empty(len(doc_entry), dtype=np.float64)
    step = max(1, SLICE // 8)
    for low in range(0, len(doc_entry), step):
        high = min(low + step, len(doc_entry))
        doc_of = np.repeat(np.arange(high - low), sizes[low:high])
        doc_total[low:high] = np.bincount(doc_of, weights=weight[terms[ends[low]:ends[high]]], minlength=high - low)
    return Index([entry.id for entry in kb.entries], reader, documents.numbers, weight,
                 Rows(assoc_start, assoc_entry, shares), Rows(start, post_docs), doc_entry, doc_total, documents.texts)


def _deletions(word: str) -> set[int]:
    """The word and its spellings with one letter left out, hashed."""
    return {hash(word), *(hash(word[:i] + word[i + 1:]) for i in range(len(word)))}
