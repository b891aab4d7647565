"""egov-bot match and eval: how the matcher decides on one question, and how it fares on a question set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.common import UsageError, load_matcher
from bot.evaluation import QuestionSetError, Targets, evaluate, read_questions
from bot.knowledge import KnowledgeBase
from bot.matching import Decision


def explain(question: str, decision: Decision, kb: KnowledgeBase) -> str:
    lines = [f"decision: {decision.action}" + (f" -> {decision.entry_id}" if decision.entry_id else "")
             + f"  ({decision.reason})", f"language: {decision.lang}"]
    if decision.terms:
        understood = ", ".join(
            f"{t.word}->{t.key}" + (f" ~{t.similarity:.2f}" if t.similarity < 1 else "") + f" w={t.weight:.2f}"
            + ("" if t.known else " (unknown)")
            for t in decision.terms
        )
        lines.append(f"words: {understood}")
    else:
        lines.append("words: none that carry meaning")
    if decision.candidates:
        lines.append("candidates:")
        for candidate in decision.candidates:
            entry = kb.entry(candidate.id)
            title = entry.title["ru"] if entry else ""
            lines.append(f"  {candidate.score:.3f}  {candidate.id}  {title}  [best variant: {candidate.variant}]")
    return "\n".join(lines)


def cmd_match(args: argparse.Namespace) -> int:
    matcher = load_matcher(args.knowledge)
    kb = matcher.kb
    if args.jsonl:
        out = sys.stdout
        for line in sys.stdin:
            question = line.rstrip("\r\n")
            out.write(json.dumps(matcher.match(question).to_json(question), ensure_ascii=False) + "\n")
        out.flush()
        return 0
    if args.text is None:
        raise UsageError('give a question: egov-bot match "как получить эцп" (or --jsonl to read stdin)')
    print(explain(args.text, matcher.match(args.text), kb))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    matcher = load_matcher(args.knowledge)
    try:
        questions = read_questions(Path(args.file))
    except QuestionSetError as error:
        raise UsageError(str(error)) from None
    report = evaluate(matcher, questions)
    if report.unknown:
        print(f"warning: expected entries not in the knowledge base: {', '.join(report.unknown)}", file=sys.stderr)
    total, ratios = report.total, report.total.ratios()
    print(f"questions: {total.positives + total.negatives} ({total.positives} with an entry, {total.negatives} for librarians)")
    print(f"top1: {ratios.top1:.3f}  reachable: {ratios.reachable:.3f}  wrong answers: {ratios.wrong:.3f} ({total.wrong})")
    print(f"negatives answered: {total.negatives_answered}  negatives escalated: {ratios.negatives_escalated:.3f}")
    print("by kind:")
    for kind, tally in sorted(report.by_kind.items()):
        r = tally.ratios()
        if tally.positives:
            print(f"  {kind:13} n={tally.positives:3}  top1 {r.top1:.2f}  reachable {r.reachable:.2f}  wrong {tally.wrong}")
        if tally.negatives:
            print(f"  {kind:13} n={tally.negatives:3}  negatives answered {tally.negatives_answered}  escalated {r.negatives_escalated:.2f}")
    if report.misses:
        print("misses:")
        for miss in report.misses:
            decision = miss.decision
            got = decision.entry_id or ",".join(c.id for c in decision.candidates) or "-"
            print(f"  [{miss.outcome}] {miss.question!r} expected {miss.expect or 'librarian'}; got {decision.action} {got}")
    targets = Targets(args.min_top1, args.min_reachable, args.max_wrong, args.max_negatives_answered,
                      args.min_negatives_escalated)
    shortfalls = targets.shortfalls(total)
    if shortfalls:
        print("FAIL: " + "; ".join(map(str, shortfalls)))
        return 1
    print("PASS")
    return 0
