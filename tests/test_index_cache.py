"""The compiled index on disk (bot.index_cache): never stale, and only ever an optimisation."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from bot import cli, index_cache
from bot.config import cache_directory
from bot.helpdesk import Knowledge
from bot.index_cache import load_indexed
from bot.knowledge import KnowledgeError, bundled_knowledge_dir
from bot.matching import Matcher

QUESTION = "как получить эцп"


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.index.pickle")) if directory.is_dir() else []


def no_rebuild(monkeypatch):
    """From here on, loading the YAML fails the test: what is returned came from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("the knowledge base was loaded again instead of coming from the cache")
    monkeypatch.setattr(index_cache, "load_knowledge", refuse)


def test_a_second_load_comes_from_the_cache(tmp_path: Path, make_kb, monkeypatch):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    first = load_indexed(tiny.directory, cache)
    assert first.match(QUESTION).entry_id == "tiny-eds"
    assert len(cache_files(cache)) == 1
    no_rebuild(monkeypatch)
    second = load_indexed(tiny.directory, cache)
    assert second is not first and second.kb == first.kb
    assert second.match(QUESTION) == first.match(QUESTION)
    assert second.match("справка о несудимости").entry_id == "tiny-criminal"


def test_an_edited_knowledge_file_is_never_served_stale(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    question = "нужна бумага про отсутствие приводов"
    assert load_indexed(tiny.directory, cache).match(question).entry_id is None
    tiny.replace("services/x.yaml", "      - несудимость для работы", f"      - {question}")
    assert load_indexed(tiny.directory, cache).match(question).entry_id == "tiny-criminal"
    assert len(cache_files(cache)) == 1  # the old index was removed, not left to pile up
    # ... and back: the first content again answers as it did (a fresh key, not the edited index)
    tiny.replace("services/x.yaml", f"      - {question}", "      - несудимость для работы")
    assert load_indexed(tiny.directory, cache).match(question).entry_id is None


def test_a_new_file_in_services_is_not_served_stale(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    load_indexed(tiny.directory, cache)
    tiny.write("services/y.yaml", "- id: broken\n")
    with pytest.raises(KnowledgeError):
        load_indexed(tiny.directory, cache)


def test_a_change_of_code_is_not_served_the_old_index(tmp_path: Path, make_kb, monkeypatch):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    load_indexed(tiny.directory, cache)
    monkeypatch.setattr(index_cache, "_code_version", "some other matching code")
    built = []
    real = index_cache.load_knowledge
    monkeypatch.setattr(index_cache, "load_knowledge", lambda directory: built.append(directory) or real(directory))
    assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    assert built == [tiny.directory]
    assert len(cache_files(cache)) == 2  # one per code version: two worktrees sharing a cache do not thrash


def test_the_code_version_covers_the_matching_code():
    digest = index_cache.code_version()
    assert len(digest) == 64 and digest == index_cache.code_version()
    package = Path(index_cache.__file__).parent
    sources = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}  # what code_version reads
    assert {"matching/index.py", "matching/reading.py", "text.py", "knowledge/loading.py", "index_cache.py"} <= sources


@pytest.mark.parametrize("garbage", [b"", b"not a pickle at all", b"\x80\x05\x95", "truncated"])
def test_a_corrupt_cache_file_is_ignored_and_rebuilt(tmp_path: Path, make_kb, garbage):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    load_indexed(tiny.directory, cache)
    [path] = cache_files(cache)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2] if garbage == "truncated" else garbage)
    assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    assert path.read_bytes() == good or pickle.loads(path.read_bytes())["key"] == pickle.loads(good)["key"]


def test_a_cache_file_of_another_key_or_shape_is_ignored(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    load_indexed(tiny.directory, cache)
    [path] = cache_files(cache)
    stored = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({"key": "another key", "matcher": stored["matcher"]}))
    assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    path.write_bytes(pickle.dumps(["a list", "of things"]))
    assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    assert pickle.loads(path.read_bytes())["key"] == stored["key"]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_a_cache_file_others_can_write_is_not_trusted(tmp_path: Path, make_kb, monkeypatch):
    tiny = make_kb(tmp_path)
    cache = tmp_path / "cache"
    load_indexed(tiny.directory, cache)
    [path] = cache_files(cache)
    path.chmod(0o666)
    built = []
    real = index_cache.load_knowledge
    monkeypatch.setattr(index_cache, "load_knowledge", lambda directory: built.append(directory) or real(directory))
    assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    assert built == [tiny.directory]


def test_a_cache_directory_that_cannot_be_written_only_costs_speed(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for cache in (blocker, blocker / "cache"):  # a file where the directory should be; a directory under a file
        assert load_indexed(tiny.directory, cache).match(QUESTION).entry_id == "tiny-eds"
    assert blocker.read_text() == "not a directory"


def test_the_command_answers_without_a_writable_cache(tmp_path: Path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("EGOV_BOT_CACHE_DIR", str(blocker / "cache"))
    assert cli.main(["match", QUESTION]) == 0
    captured = capsys.readouterr()
    assert "decision: answer -> eds-obtain" in captured.out
    assert captured.err == ""


def test_the_cache_can_be_turned_off(tmp_path: Path, make_kb, monkeypatch):
    tiny = make_kb(tmp_path)
    monkeypatch.setenv("EGOV_BOT_CACHE_DIR", "off")
    assert cache_directory() is None
    assert load_indexed(tiny.directory).match(QUESTION).entry_id == "tiny-eds"
    assert load_indexed(tiny.directory, None).match(QUESTION).entry_id == "tiny-eds"


def test_where_the_cache_lives():
    assert cache_directory({"EGOV_BOT_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/x"}) == Path("/srv/cache")
    assert cache_directory({"XDG_CACHE_HOME": "/x", "HOME": "/home/a"}) == Path("/x/egov-bot")
    assert cache_directory({"XDG_CACHE_HOME": "relative", "HOME": "/home/a"}) == Path("/home/a/.cache/egov-bot")
    assert cache_directory({"HOME": "/home/a"}) == Path("/home/a/.cache/egov-bot")
    assert cache_directory({"EGOV_BOT_CACHE_DIR": "OFF", "HOME": "/home/a"}) is None


def test_library_load_uses_the_cache_and_sees_edits(tmp_path: Path, make_kb, monkeypatch):
    tiny = make_kb(tmp_path)
    monkeypatch.setenv("EGOV_BOT_CACHE_DIR", str(tmp_path / "cache"))
    first = Knowledge.load(tiny.directory)
    assert first.matcher.kb is first.kb
    tiny.replace("services/x.yaml", "Справку о несудимости закажите", "Справку о несудимости теперь закажите")
    second = Knowledge.load(tiny.directory)
    assert "теперь" in second.kb.entry("tiny-criminal").answer["ru"]
    assert second.matcher.kb is second.kb


def test_a_pickled_matcher_decides_as_the_one_it_was_built_as(tmp_path: Path, kb):
    fresh = Matcher(kb)
    cache = tmp_path / "cache"
    load_indexed(bundled_knowledge_dir(), cache)
    stored = load_indexed(bundled_knowledge_dir(), cache)  # this one from the file
    questions = [q for entry in kb.entries for _, q in entry.all_questions()][::7] + [
        "kak poluchit ecp", "rfr gjkexbnm 'wg", "эцп истекла", "пасобие на рибенка", "как приготовить плов", ""]
    for question in questions:
        assert stored.match(question) == fresh.match(question), question
        assert stored.match(question).terms == fresh.match(question).terms, question
