"""Ranking entries for a question's terms.

A variant's score is a weighted F-measure of how much of the question it explains and how much of it the
question covers; an entry scores as its best variant, blended with how typical the question's words are of
the entry as a whole.

The sums run over numpy arrays (a common word of a large knowledge base is used by tens of thousands of
variants). They add the same numbers in the same order as a loop over the words would, so the scores are
the same to the last bit; ties are broken as such a loop would break them (see _reach_keys).
"""

from __future__ import annotations

import numpy as np

from bot.matching.index import Index
from bot.matching.policy import Candidate, Term

BETA = 0.8   # weighted F-measure: < 1 favours explaining the citizen's question over covering the variant
BLEND = 0.2  # share of the entry-level score (how typical the question's words are of the entry)


def rank(index: Index, terms: list[Term], *, leave_out: int | None = None, limit: int = 10) -> list[Candidate]:
    """The `limit` best entries, best first (only entries that share at least one word with the question)."""
    question_total = sum(t.weight for t in terms)
    known = [(index.term_number[t.key], t) for t in terms if t.known]
    if question_total <= 0 or not known or limit <= 0:
        return []
    postings, weight, n_docs = index.postings, index.weight, len(index.doc_total)
    # Rarest words first: the order in which documents are first reached breaks ties.
    walk = sorted(known, key=lambda known_term: _length(postings, known_term[0]))
    segments = [postings.items[slice(*postings.bounds(row))] for row, _ in walk]
    docs, lengths = np.concatenate(segments), [len(segment) for segment in segments]
    term_weights = [float(weight[row]) for row, _ in walk]
    # A term's postings hold each document once, and bincount adds in array order: per document, the same
    # sums (term by term, rarest first) as a loop over the postings.
    matched_q = np.bincount(docs, np.repeat([t.similarity * w for (_, t), w in zip(walk, term_weights)], lengths),
                            minlength=n_docs)
    matched_d = np.bincount(docs, np.repeat(term_weights, lengths), minlength=n_docs)
    if leave_out is not None and 0 <= leave_out < n_docs:
        matched_q[leave_out] = matched_d[leave_out] = 0.0
    reached = np.flatnonzero(matched_d)  # every weight is positive: a reached document has matched_d > 0
    if not len(reached):
        return []
    beta2 = BETA * BETA
    matched = matched_q[reached]
    precision = matched / question_total
    recall = matched_d[reached] / index.doc_total[reached]
    fit = (1 + beta2) * precision * recall / (beta2 * recall + precision)
    # The best variant of each entry: reached documents are ascending, so each entry's are contiguous.
    doc_entries = index.doc_entry[reached]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(doc_entries)) + 1))
    sizes = np.diff(np.append(starts, len(reached)))
    entries = doc_entries[starts]
    best_fit = np.maximum.reduceat(fit, starts)
    typical_all, covered_all = _typical(index, known)
    if leave_out is not None and 0 <= leave_out < n_docs:
        _uncover(index, known, leave_out, covered_all)
    typical, covered = typical_all[entries], covered_all[entries]
    blended = (1 - BLEND) * best_fit + BLEND * typical / question_total
    chosen = _best(blended, limit, lambda among: _entry_reach_keys(among, reached, starts, sizes, segments, n_docs))
    best_doc = _best_documents(chosen, fit, best_fit, starts, sizes, reached, segments, n_docs)
    ranked = [Candidate(index.entry_ids[entry], score, index.doc_text[doc], variant_fit, typical_sum / question_total,
                        evidence, covered_sum / question_total)
              for entry, score, doc, variant_fit, typical_sum, evidence, covered_sum in zip(
                  entries[chosen].tolist(), blended[chosen].tolist(), reached[best_doc].tolist(),
                  best_fit[chosen].tolist(), typical[chosen].tolist(), matched[best_doc].tolist(),
                  covered[chosen].tolist())]
    ranked.sort(key=lambda c: (-c.score, c.id))
    return ranked


def _length(rows, row: int) -> int:
    start, end = rows.bounds(row)
    return end - start


def _typical(index: Index, known: list[tuple[int, Term]]) -> tuple[np.ndarray, np.ndarray]:
    """Per entry: how typical the question's known words are of it (weighted, summed in the question's order),
    and the weight of the question's words it uses anywhere, in any of its variants (its coverage)."""
    association = index.association
    spans = [association.bounds(row) for row, _ in known]
    entries = np.concatenate([association.items[start:end] for start, end in spans])
    shares = np.concatenate([association.values[start:end] for start, end in spans])
    weights = np.repeat([float(index.weight[row]) * t.similarity for row, t in known], [e - s for s, e in spans])
    n_entries = len(index.entry_ids)
    return np.bincount(entries, weights * shares, minlength=n_entries), np.bincount(entries, weights, minlength=n_entries)


def _uncover(index: Index, known: list[tuple[int, Term]], left_out: int, covered: np.ndarray) -> None:
    """The left-out document's entry's coverage without the words only that document gave it (leave-one-out);
    summed afresh in the question's order, as bincount sums."""
    entry = int(index.doc_entry[left_out])
    total = 0.0
    for row, term in known:
        docs = index.postings.items[slice(*index.postings.bounds(row))]
        if np.any(index.doc_entry[docs[docs != left_out]] == entry):
            total += float(index.weight[row]) * term.similarity
    covered[entry] = total


def _best(scores: np.ndarray, limit: int, order_of_tied) -> np.ndarray:
    """Positions of the `limit` highest scores; of scores tied at the cut, the first ones by `order_of_tied`
    (heapq.nlargest over entries in the order they were reached keeps the first ones)."""
    if len(scores) <= limit:
        return np.arange(len(scores))
    floor = scores[np.argpartition(-scores, limit - 1)[:limit]].min()
    above = np.flatnonzero(scores > floor)
    tied = np.flatnonzero(scores == floor)
    room = limit - len(above)
    if len(tied) > room:
        tied = tied[np.argsort(order_of_tied(tied), kind="stable")[:room]]
    return np.concatenate((above, tied))


def _reach_keys(docs: np.ndarray, segments: list[np.ndarray], n_docs: int) -> np.ndarray:
    """The order in which a loop over the postings, rarest word first, would first reach each document:
    (the first word whose postings hold it, the document)."""
    first = np.full(len(docs), len(segments), dtype=np.int64)
    for k in range(len(segments) - 1, -1, -1):
        segment = segments[k]
        if len(segment):
            at = np.minimum(np.searchsorted(segment, docs), len(segment) - 1)
            first[segment[at] == docs] = k
    return first * n_docs + docs


def _entry_reach_keys(among, reached, starts, sizes, segments, n_docs) -> np.ndarray:
    """The reach key of each entry in `among` (positions among the reached entries): its first document's."""
    wanted = np.zeros(len(starts), dtype=bool)
    wanted[among] = True
    keys = _reach_keys(reached[np.repeat(wanted, sizes)], segments, n_docs)
    offsets = np.concatenate(([0], np.cumsum(sizes[among])[:-1]))  # `among` is ascending, as np.flatnonzero gives
    return np.minimum.reduceat(keys, offsets)


def _best_documents(chosen, fit, best_fit, starts, sizes, reached, segments, n_docs) -> list[int]:
    """For each chosen entry, the position (among reached documents) of its best-fitting document; of tied
    ones, the first reached."""
    is_best = fit == np.repeat(best_fit, sizes)
    at_best = np.flatnonzero(is_best)
    first = at_best[np.searchsorted(at_best, starts[chosen])].tolist()  # the lowest-numbered best document
    tied = (np.add.reduceat(is_best, starts)[chosen] > 1).tolist()
    for k, j in enumerate(chosen.tolist()):
        if tied[k]:  # rare: several variants of the entry fit as well; the loop kept the first it reached
            start = int(starts[j])
            candidates = start + np.flatnonzero(is_best[start:start + int(sizes[j])])
            first[k] = int(candidates[np.argmin(_reach_keys(reached[candidates], segments, n_docs))])
    return first
