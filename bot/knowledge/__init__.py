"""The knowledge base: categories, entries and synonyms (model.py), loaded from YAML and validated (loading.py)."""

from bot.knowledge.checking import YamlChecker
from bot.knowledge.loading import load_knowledge
from bot.knowledge.model import (ANSWER_HARD_LIMIT, ANSWER_SOFT_LIMIT, DEFAULT_OFFICIAL_DOMAINS, ID_PATTERN,
                                 LANGUAGE_NAMES, LANGUAGES, MIN_KAZAKH_QUESTIONS, MIN_QUESTIONS, REVIEW_MAX_AGE_DAYS,
                                 URL_IN_TEXT, CannedReply, Category, Entry, Holiday, KnowledgeBase, KnowledgeError, Link, Notice, Problem,
                                 SynonymGroup, bundled_knowledge_dir, is_home_page, russian_only_page)
from bot.knowledge.yaml_lines import line_of, read_yaml

__all__ = ["ANSWER_HARD_LIMIT", "ANSWER_SOFT_LIMIT", "CannedReply", "Category", "DEFAULT_OFFICIAL_DOMAINS", "Entry", "Holiday", "ID_PATTERN",
           "KnowledgeBase", "KnowledgeError", "LANGUAGES", "LANGUAGE_NAMES", "Link", "MIN_KAZAKH_QUESTIONS", "Notice",
           "MIN_QUESTIONS", "Problem", "REVIEW_MAX_AGE_DAYS", "SynonymGroup", "URL_IN_TEXT", "YamlChecker",
           "bundled_knowledge_dir", "is_home_page", "line_of", "load_knowledge", "read_yaml", "russian_only_page"]
