"""Grouping questions that say the same thing in different words (for editors' lists)."""

from __future__ import annotations

from rapidfuzz import fuzz

from bot.matching.matcher import Matcher


def group_similar(questions: list[str], matcher: Matcher, threshold: float = 75.0) -> list[tuple[str, int, list[str]]]:
    """Questions grouped by similar wording, most frequent group first: (example, count, other wordings).

    Two questions are alike when their stems, as the matcher reads them, overlap by token-set ratio.
    """
    groups: list[tuple[str, list[str], list[str]]] = []  # (key, questions, distinct texts)
    for question in questions:
        key = " ".join(sorted(matcher.meaningful_stems(question)))
        if not key:
            continue
        for group_key, members, texts in groups:
            if fuzz.token_set_ratio(key, group_key) >= threshold:
                members.append(question)
                if question not in texts:
                    texts.append(question)
                break
        else:
            groups.append((key, [question], [question]))
    groups.sort(key=lambda g: -len(g[1]))
    return [(texts[0], len(members), texts[1:4]) for _, members, texts in groups]
