"""Ranking entries for a question's terms.

A variant's score is a weighted F-measure of how much of the question it explains and how much of it the
question covers; an entry scores as its best variant, blended with how typical the question's words are of
the entry as a whole.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict

from bot.matching.index import Index
from bot.matching.policy import Candidate, Term

BETA = 0.8            # weighted F-measure: < 1 favours explaining the citizen's question over covering the variant
BLEND = 0.2           # share of the entry-level score (how typical the question's words are of the entry)
LONG_POSTINGS = 5000  # see rank: never reached by the bundled knowledge base


def rank(index: Index, terms: list[Term], *, leave_out: int | None = None, limit: int = 10) -> list[Candidate]:
    """The `limit` best entries, best first (only entries that share at least one word with the question)."""
    question_total = sum(t.weight for t in terms)
    if question_total <= 0:
        return []
    matched_q: dict[int, float] = defaultdict(float)
    matched_d: dict[int, float] = defaultdict(float)
    # Rarest words first. In a very large knowledge base, a word whose postings outnumber the documents
    # already reached only updates those: a document sharing nothing but the commonest words with the
    # question cannot win, and walking 10,000 postings would cost milliseconds.
    postings_of = index.postings
    known = sorted((t for t in terms if t.known), key=lambda t: len(postings_of.get(t.key, ())))
    for term in known:
        weight = index.weight[term.key]
        postings = postings_of.get(term.key, ())
        if len(postings) > LONG_POSTINGS and 0 < len(matched_q) < len(postings):
            reached = [d for d in matched_q if _has(postings, d)]
        else:
            reached = [d for d in postings if d != leave_out]
        for doc_id in reached:
            matched_q[doc_id] += term.similarity * weight
            matched_d[doc_id] += weight
    typical: dict[int, float] = defaultdict(float)
    for term in terms:
        if term.known:
            weight = index.weight[term.key] * term.similarity
            entries, shares = index.association.get(term.key, ((), ()))
            for entry, share in zip(entries, shares):
                typical[entry] += weight * share
    # The best variant of each entry. Plain lists and locals: this loop runs over every reached document.
    beta2 = BETA * BETA
    doc_entry, doc_total = index.doc_entry, index.doc_total
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
        ranked.append(Candidate(index.entry_ids[i], blended[i], index.doc_text[doc_id], best_fit[i],
                                typical[i] / question_total, matched_q[doc_id]))
    ranked.sort(key=lambda c: (-c.score, c.id))
    return ranked


def _has(postings, doc_id: int) -> bool:
    at = bisect.bisect_left(postings, doc_id)
    return at < len(postings) and postings[at] == doc_id
