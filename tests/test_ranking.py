"""bot.matching.ranking sums over numpy arrays; it must score and order exactly as a plain loop would."""

from __future__ import annotations

import heapq
import pickle
from collections import defaultdict

import pytest
import yaml

from bot.knowledge import KnowledgeBase
from bot.matching import Matcher, ranking
from bot.matching.index import Index
from bot.matching.policy import Candidate, Term

QUESTIONS = ["как получить эцп", "справка", "справка о несудимости", "пособие на ребенка", "жәрдемақы",
             "kak poluchit ecp", "регистрация", "егов", "получить справку онлайн", "шрафы пдд"]


def reference_rank(index: Index, terms: list[Term], leave_out: int | None = None, limit: int = 10) -> list[Candidate]:
    """The scoring written as the loop it is: documents reached rarest word first, dicts in that order."""
    question_total = sum(t.weight for t in terms)
    if question_total <= 0:
        return []

    def row(rows, term):
        start, end = rows.bounds(index.term_number[term.key])
        return rows.items[start:end].tolist(), (None if rows.values is None else rows.values[start:end].tolist())

    known = sorted((t for t in terms if t.known), key=lambda t: len(row(index.postings, t)[0]))
    matched_q: dict[int, float] = defaultdict(float)
    matched_d: dict[int, float] = defaultdict(float)
    for term in known:
        weight = float(index.weight[index.term_number[term.key]])
        for doc in row(index.postings, term)[0]:
            if doc != leave_out:
                matched_q[doc] += term.similarity * weight
                matched_d[doc] += weight
    typical: dict[int, float] = defaultdict(float)
    covered: dict[int, float] = defaultdict(float)
    for term in terms:
        if term.known:
            weight = float(index.weight[index.term_number[term.key]]) * term.similarity
            for entry, share in zip(*row(index.association, term)):
                typical[entry] += weight * share
            for entry in {int(index.doc_entry[doc]) for doc in row(index.postings, term)[0] if doc != leave_out}:
                covered[entry] += weight  # words only the left-out variant has do not cover its entry
    beta2 = ranking.BETA ** 2
    best_fit: dict[int, float] = {}
    best_doc: dict[int, int] = {}
    for doc, matched in matched_q.items():
        precision, recall = matched / question_total, matched_d[doc] / float(index.doc_total[doc])
        fit = (1 + beta2) * precision * recall / (beta2 * recall + precision)
        entry = int(index.doc_entry[doc])
        if fit > best_fit.get(entry, -1.0):
            best_fit[entry], best_doc[entry] = fit, doc
    blended = {i: (1 - ranking.BLEND) * f + ranking.BLEND * typical[i] / question_total for i, f in best_fit.items()}
    ranked = [Candidate(index.entry_ids[i], blended[i], index.doc_text[best_doc[i]], best_fit[i],
                        typical[i] / question_total, matched_q[best_doc[i]], covered[i] / question_total)
              for i in heapq.nlargest(limit, blended, key=blended.__getitem__)]
    ranked.sort(key=lambda c: (-c.score, c.id))
    return ranked


def eval_questions() -> list[str]:
    from pathlib import Path

    data = yaml.safe_load((Path(__file__).parent / "data" / "eval.yaml").read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else data.get("questions", [])
    return [item["q"] for item in items if isinstance(item, dict) and "q" in item][:200]


@pytest.mark.parametrize("limit, leave_out", [(10, None), (3, None), (1, None), (10, 0), (5, 17)])
def test_rank_equals_the_plain_loop(matcher: Matcher, limit: int, leave_out: int | None) -> None:
    checked = 0
    for question in QUESTIONS + eval_questions():
        terms, _ = matcher.terms(question)
        assert ranking.rank(matcher.index, terms, leave_out=leave_out, limit=limit) == \
            reference_rank(matcher.index, terms, leave_out, limit), question
        checked += bool(terms)
    assert checked >= len(QUESTIONS)


def test_ties_are_broken_as_the_loop_breaks_them(matcher: Matcher) -> None:
    # One common word, many entries at the same score: which ones make the cut is the loop's order.
    index = matcher.index
    common = sorted(index.term_number, key=lambda t: -float(index.postings.bounds(index.term_number[t])[1]
                                                            - index.postings.bounds(index.term_number[t])[0]))[:30]
    for key in common:
        weight = index.weight_of(key)
        for terms in ([Term(key, key, 1.0, weight, True)], [Term(key, key, 0.8, weight, True), Term("x", "x", 0, 1.0, False)]):
            for limit in (1, 2, 4):
                assert ranking.rank(index, terms, limit=limit) == reference_rank(index, terms, limit=limit), key


def test_a_pickled_index_ranks_the_same(matcher: Matcher) -> None:
    copy = pickle.loads(pickle.dumps(matcher))
    for question in QUESTIONS:
        terms, _ = matcher.terms(question)
        assert copy.rank(terms) == matcher.rank(terms)


def test_nothing_known_ranks_nothing(matcher: Matcher) -> None:
    assert ranking.rank(matcher.index, [Term("зюзя", "зюз", 0.0, 1.0, False)]) == []
    assert ranking.rank(matcher.index, []) == []


def test_weights_and_rows_describe_the_knowledge_base(kb: KnowledgeBase, matcher: Matcher) -> None:
    index = matcher.index
    assert index.weight_of("ецп") == float(index.weight[index.term_number["ецп"]]) and index.weight_of("зюзюка") is None
    assert len(index.weight) == len(index.term_number) == len(index.postings.start) - 1
    assert index.doc_entry.tolist() == sorted(index.doc_entry.tolist())
    assert len(index.entry_ids) == len(kb.entries)
    for term, number in list(index.term_number.items())[:200]:
        docs = index.postings.items[slice(*index.postings.bounds(number))]
        assert docs.tolist() == sorted(set(docs.tolist()))
        entries = index.association.items[slice(*index.association.bounds(number))].tolist()
        assert entries == sorted({int(index.doc_entry[d]) for d in docs.tolist()})


def small_index(docs: list[tuple[int, tuple[str, ...]]], weights: dict[str, float]) -> Index:
    """An index written by hand: (entry, terms) per document, entries in order; shares as the builder's."""
    import numpy as np

    from bot.matching.index import Rows

    numbers = {term: n for n, term in enumerate(weights)}
    entries = sorted({entry for entry, _ in docs})
    post_rows, post_docs, assoc_rows, assoc_entries, assoc_shares = [], [], [], [], []
    for doc, (_, terms) in enumerate(docs):
        post_rows += [numbers[t] for t in terms]
        post_docs += [doc] * len(terms)
    for entry in entries:
        mine = [terms for e, terms in docs if e == entry]
        for term in weights:
            count = sum(term in terms for terms in mine)
            if count:
                assoc_rows.append(numbers[term])
                assoc_entries.append(entry)
                assoc_shares.append(min(1.0, 3.0 * count / len(mine)))

    def rows(row_numbers, items, values=None):
        return Rows.group(np.array(row_numbers, dtype=np.int32), len(numbers), np.array(items, dtype=np.int32),
                          None if values is None else np.array(values))

    return Index([f"entry-{chr(ord('z') - e)}" for e in entries], None, numbers, np.array(list(weights.values())),
                 rows(assoc_rows, assoc_entries, assoc_shares), rows(post_rows, post_docs),
                 np.array([e for e, _ in docs], dtype=np.int32),
                 np.array([sum(weights[t] for t in terms) for _, terms in docs]), [" ".join(t) for _, t in docs])


def test_entries_tied_at_the_cut_are_the_first_reached() -> None:
    # Every entry scores the same on "a b"; "b" is the rarer word and reaches the later entries first, and the
    # entry ids run backwards, so neither the entry number nor the id alone gives the loop's choice.
    docs = [(0, ("a", "c")), (0, ("c",)), (1, ("a", "c")), (1, ("c",)), (2, ("b", "c")), (2, ("c",)),
            (3, ("b", "c")), (3, ("c",)), (4, ("a", "c")), (4, ("c",))]
    index = small_index(docs, {"a": 0.5, "b": 0.5, "c": 0.2})
    terms = [Term("a", "a", 1.0, 0.5, True), Term("b", "b", 1.0, 0.5, True)]
    for limit in range(1, 6):
        expected = reference_rank(index, terms, limit=limit)
        assert ranking.rank(index, terms, limit=limit) == expected
        assert len(expected) == limit
    assert {c.id for c in reference_rank(index, terms, limit=2)} == {"entry-x", "entry-w"}  # entries 2 and 3
    # Variants tied within an entry: the first reached one is shown.
    docs = [(0, ("a", "c")), (0, ("b", "c")), (1, ("a", "c"))]  # "b" is the rarer word
    index = small_index(docs, {"a": 0.5, "b": 0.5, "c": 0.2})
    assert ranking.rank(index, terms)[0].variant == reference_rank(index, terms)[0].variant == "b c"
