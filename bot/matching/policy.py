"""What to do with a ranked question: answer, offer a choice, or hand it to a librarian.

Ranking uses the blended score; confidence uses the best variant's fit, the lead over the runner-up, the
weight of the words it matched, and the share of the question made of words the knowledge base has never
seen. The values are calibrated on tests/data/eval.yaml and ../shared/eval/dev.yaml; the reasoning is in the
README, "How the matcher decides". Scores are in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import Action


@dataclass(frozen=True)
class Thresholds:
    answer_fit: float = 0.48        # the best entry must fit at least this well to be answered outright ...
    answer_margin: float = 0.06     # ... and lead the runner-up by at least this much
    answer_evidence: float = 0.4    # ... and match question words worth this (common words alone are not enough)
    answer_typical: float = 0.1     # ... and use words typical of the entry, not only of one odd variant
    sure_fit: float = 0.7           # a best variant that fits this well needs a lead of only ...
    sure_margin: float = 0.03       # ... this much over the runner-up, when it matched telling words (not only
    sure_evidence: float = 0.9      # "получить справку"): worth at least this much
    clarify_fit: float = 0.49       # below this nothing fits: a librarian's question
    clarify_unknown_limit: float = 0.3  # a question offered a choice must be mostly words the knowledge base uses
    unknown_limit: float = 0.4      # a question this much (by weight) of words the knowledge base never uses is not ours
    offer_margin: float = 0.2       # an entry leading by this much is offered even when part of the question is
    offer_unknown_limit: float = 0.6  # unfamiliar, unless the unfamiliar part is most of the question,
    offer_fit: float = 0.6          # ... when it fits well and two or more of the question's words are ours
    weak_offer_score: float = 0.4   # below clarify_fit, an entry scoring this much ...
    weak_offer_margin: float = 0.13  # ... and leading the runner-up by this much is still offered
    cover_answer: float = 0.9       # an entry whose variants between them use this much of the question ...
    cover_margin: float = 0.2       # ... this much more of it than any other entry's, leads clearly too
    one_word_sure: float = 0.9      # a one-word question is answered when its entry fits it this well ...
    one_word_shared: float = 0.7    # ... or no other entry scores this share of the best one's; else a choice
    clarify_window: float = 0.15    # options offered are within this distance of the best one
    max_options: int = 3


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float
    variant: str = ""      # the question variant or title that matched best
    fit: float = 0.0       # how well the best variant fits (weighted F-measure)
    typical: float = 0.0   # how typical the question's words are of the entry as a whole
    evidence: float = 0.0  # the weight of the question's words this variant matched (the rarest word weighs 1)
    coverage: float = 0.0  # the share of the question (by weight) in words the entry uses in any of its variants


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
    action: Action
    lang: str                          # "ru" | "kk"
    candidates: tuple[Candidate, ...]  # best first; for clarify: the options offered
    entry_id: str | None = None        # set when action is ANSWER
    reason: str = ""                   # "confident", "close-call", "unsure", "no-match", "no-words", ...
    terms: tuple[Term, ...] = field(default=(), compare=False)
    lang_stated: bool = False          # the question itself says its language (Kazakh letters, or more words of it)

    def to_json(self, question: str) -> dict:
        return {
            "question": question,
            "decision": str(self.action),
            "entry": self.entry_id,
            "candidates": [{"id": c.id, "score": round(c.score, 4)} for c in self.candidates],
            "lang": self.lang,
        }


def decide(ranked: list[Candidate], lang: str, terms: tuple[Term, ...] = (),
           thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """Turn ranked candidates (best first) into a decision."""
    t = thresholds
    total = sum(term.weight for term in terms)
    unknown = sum(term.weight for term in terms if not term.known) / total if total else 0.0
    if not ranked:
        return Decision(Action.ESCALATE, lang, (), None, "no-match", terms)
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    lead = top.score - runner_up
    known_words = sum(term.known for term in terms)
    shortlist = tuple(ranked[:t.max_options])

    def escalate() -> Decision:
        return Decision(Action.ESCALATE, lang, shortlist, None, "no-match", terms)

    if top.fit < t.clarify_fit:
        # Nothing fits well; but an entry that leads the others clearly on two or more of the question's
        # words is worth offering (with "ask a librarian") rather than handing the citizen over unasked.
        if top.score >= t.weak_offer_score and lead >= t.weak_offer_margin and known_words >= 2:
            return Decision(Action.CLARIFY, lang, (top,), None, "weak-lead", terms)
        return escalate()
    # The best entry fits what the question says in the knowledge base's words and leads clearly, but part
    # of the question is unfamiliar ("справка о несудимости для Мадрида"): offer it, with "ask a librarian".
    offer = (top.fit >= t.offer_fit and lead >= t.offer_margin and top.evidence >= t.answer_evidence
             and unknown < t.offer_unknown_limit and known_words >= 2)
    if unknown >= t.unknown_limit:
        return Decision(Action.CLARIFY, lang, (top,), None, "unfamiliar", terms) if offer else escalate()
    if len(terms) == 1 and top.score < t.one_word_sure and runner_up >= t.one_word_shared * top.score:
        # One word that several entries share ("пособие", "справка", "жәрдемақы"): a choice, never one answer.
        options = tuple(c for c in shortlist if c.score >= t.one_word_shared * top.score)
        return Decision(Action.CLARIFY, lang, options, None, "one-word", terms)
    # A long question no single variant says in full ("kak vstat na uchet po bezrabotice"): the variants of one
    # entry between them say all of it, and no other entry comes close.
    cover_lead = top.coverage - max((c.coverage for c in ranked[1:]), default=0.0)
    clear_lead = (lead >= t.answer_margin
                  or (top.fit >= t.sure_fit and lead >= t.sure_margin and top.evidence >= t.sure_evidence)
                  or (top.coverage >= t.cover_answer and cover_lead >= t.cover_margin))
    if (top.fit >= t.answer_fit and clear_lead and top.evidence >= t.answer_evidence
            and top.typical >= t.answer_typical):
        return Decision(Action.ANSWER, lang, shortlist, top.id, "confident", terms)
    if unknown >= t.clarify_unknown_limit:  # not sure, and much of the question is foreign: a librarian's
        return Decision(Action.CLARIFY, lang, (top,), None, "unfamiliar", terms) if offer else escalate()
    floor = top.score - t.clarify_window
    options = [c for c in shortlist if c.score >= floor and c.fit >= t.clarify_fit * 0.75]
    if len(options) < 2:
        if len(ranked) < 2:  # a choice of one is no choice: not sure enough to answer, so ask a librarian
            return Decision(Action.ESCALATE, lang, tuple(ranked), None, "no-match", terms)
        options = ranked[:2]
    reason = "close-call" if top.fit >= t.answer_fit else "unsure"
    return Decision(Action.CLARIFY, lang, tuple(options), None, reason, terms)
