"""egov-bot kb: lint and export the knowledge base, and print librarians' drafts and suggested wordings for editors."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import knowledge_dir, load, with_helpdesk
from bot.knowledge import KnowledgeError


def cmd_lint(args: argparse.Namespace) -> int:
    from bot.helpdesk import Knowledge

    directory = knowledge_dir(args.knowledge)
    try:
        problems = Knowledge.load(directory).problems()
    except KnowledgeError as error:
        problems = error.problems
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + (warnings if not args.quiet else []):
        print(problem)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    kb = load(args.knowledge)
    data = [
        {
            "id": entry.id,
            "category": entry.category,
            "questions": [q for _, q in entry.all_questions()],
            "answer_languages": [lang for lang in ("ru", "kk") if entry.answer.get(lang)],
            "links": [link.url for link in entry.links],
            "reviewed": entry.reviewed.isoformat(),
        }
        for entry in kb.entries
    ]
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def cmd_drafts(args: argparse.Namespace) -> int:
    """Librarians' answers saved as drafts, as YAML entries for an editor to review."""
    text = with_helpdesk(args, lambda helpdesk: helpdesk.drafts_yaml())
    sys.stdout.write(text or "# no drafts yet\n")
    return 0


def cmd_suggestions(args: argparse.Namespace) -> int:
    """Citizens' wordings of questions librarians answered with an entry, as YAML for the entries' questions."""
    text = with_helpdesk(args, lambda helpdesk: helpdesk.suggestions_yaml())
    sys.stdout.write(text or "# no suggested wordings yet\n")
    return 0
