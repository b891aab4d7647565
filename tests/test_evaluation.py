"""bot.evaluation: outcomes, the tally and its ratios, targets, question sets and kb lint's self-consistency."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import (Outcome, Question, QuestionSetError, Tally, Targets, consistency_problems, evaluate,
                            outcome, read_questions)
from bot.index_cache import load_indexed
from bot.matching import Candidate, Decision


def answer(entry: str) -> Decision:
    return Decision("answer", "ru", (Candidate(entry, 0.9), Candidate("other", 0.3)), entry)


def clarify(*entries: str) -> Decision:
    return Decision("clarify", "ru", tuple(Candidate(e, 0.5) for e in entries))


ESCALATE = Decision("escalate", "ru", (Candidate("x", 0.2),))


def test_outcomes_of_questions_with_an_entry() -> None:
    assert outcome("a", answer("a")) is Outcome.OK
    assert outcome("a", answer("b")) is Outcome.WRONG
    assert outcome("a", clarify("b", "a")) is Outcome.OFFERED
    assert outcome("a", clarify("b", "c")) is Outcome.NOT_OFFERED
    assert outcome("x", ESCALATE) is Outcome.ESCALATED  # its candidates are not offered to the citizen


def test_outcomes_of_questions_for_librarians() -> None:
    assert outcome(None, ESCALATE) is Outcome.OK
    assert outcome(None, answer("a")) is Outcome.NEGATIVE_ANSWERED
    assert outcome(None, clarify("a", "b")) is Outcome.NEGATIVE_CLARIFIED
    assert f"[{Outcome.WRONG}]" == "[wrong answer]"  # the words `egov-bot eval` prints


# Eight questions with an entry (4 right, 1 wrong, 2 offered, 1 escalated), four for librarians
# (2 escalated, 1 answered, 1 clarified).
SET = [
    ("a", answer("a")), ("b", answer("b")), ("c", answer("c")), ("d", answer("d")),
    ("a", answer("b")),
    ("a", clarify("a", "b")), ("b", clarify("c", "b")),
    ("c", ESCALATE),
    (None, ESCALATE), (None, ESCALATE), (None, answer("a")), (None, clarify("a", "b")),
]


def tally_of(pairs) -> Tally:
    tally = Tally()
    for expect, decision in pairs:
        tally.add(expect, decision)
    return tally


def test_tally_counts_and_ratios() -> None:
    tally = tally_of(SET)
    assert (tally.positives, tally.correct, tally.reachable, tally.wrong) == (8, 4, 6, 1)
    assert (tally.negatives, tally.negatives_answered, tally.negatives_escalated) == (4, 1, 2)
    ratios = tally.ratios()
    assert (ratios.top1, ratios.reachable, ratios.wrong) == (0.5, 0.75, 0.125)
    assert (ratios.negatives_answered, ratios.negatives_escalated) == (0.25, 0.5)


def test_an_empty_tally_has_zero_ratios_not_an_error() -> None:
    ratios = Tally().ratios()
    assert (ratios.top1, ratios.reachable, ratios.wrong, ratios.negatives_escalated) == (0, 0, 0, 0)


def test_targets_name_each_shortfall_as_eval_prints_it() -> None:
    tally = tally_of(SET)
    shortfalls = [str(s) for s in Targets().shortfalls(tally)]
    assert shortfalls == ["top1 0.500 < 0.92", "reachable 0.750 < 0.97", "wrong 0.125 > 0.02",
                          "negatives answered 1 > 0", "negatives escalated 0.500 < 0.9"]
    lenient = Targets(min_top1=0.5, min_reachable=0.75, max_wrong=0.125, max_negatives_answered=1,
                      min_negatives_escalated=0.5)
    assert lenient.shortfalls(tally) == []


def test_without_negatives_their_escalation_is_not_required() -> None:
    tally = tally_of([("a", answer("a"))])
    assert Targets().shortfalls(tally) == []


def test_read_questions(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text('- {q: "как получить эцп", expect: tiny-eds, kind: short}\n'
                    '- {q: 12, expect: null}\n', encoding="utf-8")
    assert read_questions(path) == [Question("как получить эцп", "tiny-eds", "short"), Question("12", None, "all")]


@pytest.mark.parametrize("content, says", [("- q: [unclosed\n", "not valid YAML"), ("just text\n", "expected a list"),
                                           ("- {q: без ожидания}\n", "expected a list")])
def test_a_bad_question_set_is_named_in_one_line(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionSetError) as error:
        read_questions(path)
    assert str(path) in str(error.value) and says in str(error.value) and "\n" not in str(error.value)


def test_evaluate_on_the_tiny_knowledge_base(tmp_path: Path, make_kb) -> None:
    matcher = load_indexed(make_kb(tmp_path).directory)
    questions = [Question("как получить эцп", "tiny-eds", "short"),
                 Question("справка о несудимости", "tiny-criminal", "short"),
                 Question("как получить эцп", "tiny-address", "wrong"),
                 Question("рецепт бешбармака", None, "neg"),
                 Question("что-то", "no-such-entry", "neg")]
    report = evaluate(matcher, questions)
    assert (report.total.positives, report.total.correct, report.total.wrong) == (4, 2, 1)
    assert (report.total.negatives, report.total.negatives_escalated) == (1, 1)
    assert sorted(report.by_kind) == ["neg", "short", "wrong"]
    assert report.by_kind["short"].correct == 2 and report.by_kind["wrong"].wrong == 1
    assert [(m.outcome, m.question, m.expect) for m in report.misses] == [
        (Outcome.WRONG, "как получить эцп", "tiny-address"), (Outcome.ESCALATED, "что-то", "no-such-entry")]
    assert report.misses[0].decision.entry_id == "tiny-eds"
    assert report.unknown == ["no-such-entry"]


def test_consistency_problems(tmp_path: Path, make_kb) -> None:
    tiny = make_kb(tmp_path)
    matcher = load_indexed(tiny.directory)
    assert [p for p in consistency_problems(matcher.kb, matcher) if p.severity == "error"] == []
    # A variant of the address entry that is all about ЭЦП: the matcher answers it with the other entry.
    tiny.replace("services/x.yaml", "      - адресная справка онлайн", "      - получить эцп")
    matcher = load_indexed(tiny.directory)
    errors = [p for p in consistency_problems(matcher.kb, matcher) if p.severity == "error"]
    assert [(p.path, p.line, p.message) for p in errors] == [
        (tiny.shown("services/x.yaml"), tiny.line("services/x.yaml", "- получить эцп"),
         "entry tiny-address: the question 'получить эцп' would be answered with tiny-eds; reword it or the other entry")]
