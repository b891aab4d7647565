"""The matcher: a citizen's question in, a Decision out (answer, offer a choice, or ask a librarian).

How it decides (the reasoning behind the thresholds is in the README, "How the matcher decides"):
- index.py: every question variant and title of every entry is a small document of stems (bot.text), with
  synonyms folded onto one token per group; a word weighs by its inverse frequency over variants and entries
  (a word in every second entry tells little; a word of one entry tells a lot); filler words weigh 0.
- reading.py and vocabulary.py: the question's words are mapped onto the vocabulary: exactly, by a prefix
  (inflection the stemmer missed) or by fuzzy similarity (typos); Latin words are read as they are, as the
  Russian keyboard layout and as transliteration. Words the knowledge base has never seen keep their weight
  (bot.wordinfo: less for common grammar words): they are evidence that the question is about something else.
- ranking.py: a variant's score is a weighted F-measure of how much of the question it explains and how much
  of it the question covers; an entry scores as its best variant.
- policy.py: answer when the best entry is sure and clearly ahead; offer a choice when a few are close;
  escalate to a librarian otherwise. All thresholds are one Thresholds value.
"""

from bot.matching.grouping import group_similar
from bot.matching.matcher import Matcher
from bot.matching.policy import DEFAULT_THRESHOLDS, Action, Candidate, Decision, Term, Thresholds, decide

__all__ = ["Action", "Candidate", "DEFAULT_THRESHOLDS", "Decision", "Matcher", "Term", "Thresholds", "decide",
           "group_similar"]
