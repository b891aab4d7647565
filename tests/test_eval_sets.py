"""The matcher on the evaluation sets, through `egov-bot eval` (its default targets: top1 >= 0.92,
reachable >= 0.97, wrong <= 0.02, no negative answered, >= 90% of negatives escalated)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.knowledge import KnowledgeBase

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = PROJECT_ROOT / "tests" / "data" / "eval.yaml"
DEV_FILE = PROJECT_ROOT.parent / "shared" / "eval" / "dev.yaml"
KINDS = {"para", "short", "typo", "kk", "kk-ru-letters", "translit", "layout", "formal", "problem", "neg"}


@pytest.fixture(scope="module")
def eval_items() -> list[dict]:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def summary(out: str) -> str:
    """The report without its list of misses (run `egov-bot eval FILE` to see them)."""
    lines = out.splitlines()
    cut = lines.index("misses:") if "misses:" in lines else len(lines)
    return "\n".join(lines[:cut] + lines[-1:])


# The targets, on the project's own set (509 questions: formal request-log wording, problem reports,
# Kazakh typed in Russian letters, 96 negatives) and on the shared development set: top-1 >= 0.95, reachable
# >= 0.98, wrong answers <= 1 %, negatives answered <= 2 % (1 of 96; none of 10), negatives escalated >= 0.9.
TARGETS = ["--min-top1", "0.95", "--min-reachable", "0.98", "--max-wrong", "0.01", "--min-negatives-escalated", "0.9"]
EVAL_FLOORS = [*TARGETS, "--max-negatives-answered", "1"]
DEV_FLOORS = [*TARGETS, "--max-negatives-answered", "0"]


def test_eval_set_meets_the_targets(capsys):
    code = cli.main(["eval", str(EVAL_FILE), *EVAL_FLOORS])
    out = capsys.readouterr().out
    assert code == 0, summary(out)
    assert out.rstrip().endswith("PASS")


def test_dev_set_meets_the_targets(capsys):
    if not DEV_FILE.is_file():
        pytest.skip(f"{DEV_FILE} is not here (a clone without ../shared)")
    code = cli.main(["eval", str(DEV_FILE), *DEV_FLOORS])
    out = capsys.readouterr().out
    assert code == 0, summary(out)
    assert out.rstrip().endswith("PASS")


class TestEvalSetShape:
    def test_is_a_list_of_questions(self, eval_items):
        assert isinstance(eval_items, list)
        for item in eval_items:
            assert set(item) == {"q", "expect", "kind"}, item
            assert isinstance(item["q"], str) and item["q"].strip(), item
            assert item["kind"] in KINDS, item

    def test_size(self, eval_items):
        kinds = Counter(item["kind"] for item in eval_items)
        assert len(eval_items) >= 150
        assert kinds["kk"] >= 40
        assert kinds["translit"] + kinds["layout"] >= 20
        assert kinds["neg"] >= 25

    def test_negatives_and_only_negatives_expect_a_librarian(self, eval_items):
        for item in eval_items:
            assert (item["kind"] == "neg") == (item["expect"] is None), item

    def test_every_expected_id_exists(self, eval_items, kb: KnowledgeBase):
        missing = sorted({item["expect"] for item in eval_items if item["expect"] and kb.entry(item["expect"]) is None})
        assert missing == []

    def test_questions_are_not_copies_of_knowledge_base_variants(self, eval_items, kb: KnowledgeBase):
        variants = {q.lower().strip() for entry in kb.entries for _, q in entry.all_questions()}
        copies = [item["q"] for item in eval_items if item["q"].lower().strip() in variants]
        assert len(copies) <= len(eval_items) // 10, copies

    def test_questions_are_unique(self, eval_items):
        questions = [item["q"].lower().strip() for item in eval_items]
        assert len(questions) == len(set(questions))
