"""The egov-bot command line. Most tests run the real console script in another working directory, as a
user would; a few call bot.cli.main in-process where only the exit code and output matter."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from bot import cli
from bot.knowledge import KnowledgeBase, load_knowledge
from conftest import TINY_IDS

SCRIPT = Path(sys.executable).with_name("egov-bot")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot"]
CONTRACT_KEYS = ["question", "decision", "entry", "candidates", "lang"]


def egov_bot(*args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None,
             command: list[str] = COMMAND) -> subprocess.CompletedProcess:
    """Run the console script from cwd, without the settings of the developer's shell."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("KNOWLEDGE_DIR", "DATABASE_URL", "TELEGRAM_BOT_TOKEN")}
    environment.update(env or {})
    return subprocess.run(
        command + list(args), cwd=cwd, input=stdin, capture_output=True, text=True, encoding="utf-8",
        env=environment, timeout=60, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("egov-bot: ")
    return lines[0]


# --- match ------------------------------------------------------------------------------------


def test_match_explains_the_decision(tmp_path: Path):
    result = egov_bot("match", "как получить эцп", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("decision: answer -> eds-obtain")
    assert "language: ru" in lines
    assert "candidates:" in lines
    candidates = lines[lines.index("candidates:") + 1:]
    assert candidates and candidates[0].split()[1] == "eds-obtain"


def test_module_entry_point_is_the_same_command(tmp_path: Path):
    result = egov_bot("match", "как получить эцп", cwd=tmp_path, command=[sys.executable, "-m", "bot"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("decision: answer -> eds-obtain")


def test_match_jsonl_contract(tmp_path: Path, kb: KnowledgeBase):
    questions = ["как получить эцп", "", "справка", "kak poluchit ecp"]
    result = egov_bot("match", "--jsonl", cwd=tmp_path, stdin="".join(q + "\n" for q in questions))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    rows = [json.loads(line) for line in lines]
    for question, row in zip(questions, rows):
        assert list(row) == CONTRACT_KEYS
        assert row["question"] == question
        assert row["decision"] in ("answer", "clarify", "escalate")
        assert row["lang"] in ("ru", "kk")
        assert isinstance(row["candidates"], list)
        for candidate in row["candidates"]:
            assert list(candidate) == ["id", "score"]
            assert isinstance(candidate["id"], str) and kb.entry(candidate["id"]) is not None
            assert isinstance(candidate["score"], float)
        if row["decision"] == "answer":
            assert isinstance(row["entry"], str) and row["entry"] == row["candidates"][0]["id"]
        else:
            assert row["entry"] is None
    assert rows[0]["entry"] == "eds-obtain"
    assert rows[1] == {"question": "", "decision": "escalate", "entry": None, "candidates": [], "lang": "ru"}
    assert rows[2]["decision"] == "clarify" and 2 <= len(rows[2]["candidates"]) <= 3
    assert rows[3]["entry"] == "eds-obtain"


def test_match_without_a_question_is_a_usage_error(capsys):
    assert cli.main(["match"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "--jsonl" in err


# --- kb ---------------------------------------------------------------------------------------


def test_kb_export_json(tmp_path: Path, kb: KnowledgeBase):
    result = egov_bot("kb", "export", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    assert [item["id"] for item in data] == [entry.id for entry in kb.entries]
    for item in data:
        assert set(item) == {"id", "category", "questions", "answer_languages", "links", "reviewed"}
        entry = kb.entry(item["id"])
        assert item["category"] == entry.category
        assert item["questions"] == [q for _, q in entry.all_questions()]
        assert item["answer_languages"] == ["ru", "kk"]
        assert item["links"] and all(url.startswith("https://") for url in item["links"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["reviewed"])
        assert item["reviewed"] == entry.reviewed.isoformat()


def test_kb_lint_passes_on_the_bundled_knowledge_base(tmp_path: Path):
    result = egov_bot("kb", "lint", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert re.fullmatch(r"0 errors, \d+ warnings", result.stdout.splitlines()[-1])


def test_kb_lint_fails_with_file_and_line(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    tiny.replace("services/x.yaml", "url: https://pki.gov.kz", "url: http://pki.gov.kz")
    line = tiny.line("services/x.yaml", "url: http://pki.gov.kz")
    result = egov_bot("kb", "lint", "--knowledge", str(tiny.directory), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"knowledge/services/x.yaml:{line}: error: entry tiny-eds: link http://pki.gov.kz must start with https://" \
        in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith("1 errors")
    assert "Traceback" not in result.stdout + result.stderr


def test_kb_lint_checks_access_points_with_file_and_line(tmp_path: Path):
    import shutil

    from bot.knowledge import bundled_knowledge_dir

    directory = tmp_path / "knowledge"
    shutil.copytree(bundled_knowledge_dir(), directory)
    points = directory / "access_points.yaml"
    lines = points.read_text(encoding="utf-8").splitlines()
    broken = next(n for n, line in enumerate(lines) if line.strip().startswith("latitude:"))
    lines[broken] = lines[broken].replace("latitude:", "latitude: north", 1)
    points.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = egov_bot("kb", "lint", "--quiet", "--knowledge", str(directory), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert any(line.startswith(f"knowledge/access_points.yaml:") and ": error:" in line
               for line in result.stdout.splitlines()), result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# --- where the knowledge base comes from, and broken ones -------------------------------------------


def test_missing_knowledge_directory_is_one_line(tmp_path: Path):
    result = egov_bot("match", "--knowledge", "/nonexistent", "как получить эцп", cwd=tmp_path)
    line = assert_one_line_error(result)
    assert "/nonexistent" in line
    assert result.stdout == ""


def test_knowledge_dir_environment_variable(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    result = egov_bot("kb", "export", "--json", cwd=tmp_path, env={"KNOWLEDGE_DIR": str(tiny.directory)})
    assert result.returncode == 0, result.stderr
    assert tuple(item["id"] for item in json.loads(result.stdout)) == TINY_IDS
    # --knowledge wins over the environment.
    result = egov_bot("match", "--knowledge", str(tiny.directory), "как получить эцп", cwd=tmp_path,
                      env={"KNOWLEDGE_DIR": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("decision: answer -> tiny-eds")


def test_broken_yaml_on_match_is_one_line(tmp_path: Path, make_kb):
    tiny = make_kb(tmp_path)
    tiny.replace("services/x.yaml", "      - эцп онлайн через биометрию", "      - эцп: онлайн: через биометрию")
    line = tiny.line("services/x.yaml", "эцп: онлайн: через")
    result = egov_bot("match", "--knowledge", str(tiny.directory), "как получить эцп", cwd=tmp_path)
    message = assert_one_line_error(result)
    assert f"knowledge/services/x.yaml:{line}:" in message
    assert "not valid YAML" in message


def test_several_problems_are_summarised(tmp_path: Path, make_kb, capsys):
    tiny = make_kb(tmp_path)
    tiny.replace("services/x.yaml", "category: eds", "category: edss")
    tiny.replace("services/x.yaml", "url: https://pki.gov.kz", "url: http://pki.gov.kz")
    assert cli.main(["kb", "export", "--json", "--knowledge", str(tiny.directory)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "unknown category 'edss'" in err and "1 more problems" in err and "kb lint" in err


# --- eval -------------------------------------------------------------------------------------

TINY_EVAL = """\
- {q: "как получить эцп", expect: tiny-eds, kind: short}
- {q: "справка о несудимости", expect: tiny-criminal, kind: short}
- {q: "рецепт бешбармака", expect: null, kind: neg}
"""


def test_eval_fails_when_targets_are_not_met(tmp_path: Path):
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text('- {q: "как получить эцп", expect: traffic-fines, kind: short}\n'
                         '- {q: "справка о несудимости", expect: criminal-record, kind: short}\n', encoding="utf-8")
    result = egov_bot("eval", str(eval_file), "--min-top1", "1.0", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert re.search(r"^top1: 0\.500  reachable: 0\.500", result.stdout, re.MULTILINE), result.stdout
    assert "[wrong answer] 'как получить эцп' expected traffic-fines; got answer eds-obtain" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAIL: top1 0.500 < 1.0")


def test_eval_passes_on_a_tiny_set(tmp_path: Path, make_kb, capsys):
    tiny = make_kb(tmp_path)
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text(TINY_EVAL, encoding="utf-8")
    assert cli.main(["eval", str(eval_file), "--knowledge", str(tiny.directory)]) == 0
    out = capsys.readouterr().out
    assert "top1: 1.000  reachable: 1.000" in out
    assert out.rstrip().endswith("PASS")


def test_eval_warns_about_unknown_expected_ids(tmp_path: Path, make_kb, capsys):
    tiny = make_kb(tmp_path)
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text(TINY_EVAL + '- {q: "что-то", expect: no-such-entry}\n', encoding="utf-8")
    cli.main(["eval", str(eval_file), "--knowledge", str(tiny.directory)])
    assert "no-such-entry" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["- q: [unclosed\n", "just text\n", "- {q: без ожидания}\n"])
def test_eval_on_a_bad_file_is_a_usage_error(tmp_path: Path, capsys, content: str):
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text(content, encoding="utf-8")
    assert cli.main(["eval", str(eval_file)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(eval_file) in err


def test_eval_on_a_missing_file_is_a_usage_error(tmp_path: Path, capsys):
    assert cli.main(["eval", str(tmp_path / "missing.yaml")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


# --- console ----------------------------------------------------------------------------------


def test_console_answers_and_escalates(tmp_path: Path, kb: KnowledgeBase):
    database = tmp_path / "db.sqlite3"
    result = egov_bot("console", "--database", f"sqlite+aiosqlite:///{database}", cwd=tmp_path,
                      stdin="как получить эцп\nтелефонный код казахстана\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    tail = out[out.index("телефонный код казахстана"):] if "телефонный код казахстана" in out else out
    assert any(link.url in out for link in kb.entry("eds-obtain").links), out
    assert "#1" in tail, tail  # the unanswerable question got ticket number 1
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT id, question, lang, status FROM tickets").fetchall()
    assert rows == [(1, "телефонный код казахстана", "ru", "open")]


def test_run_without_a_token_is_one_line(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "TELEGRAM_BOT_TOKEN" in err


def test_eval_on_a_non_utf8_file_is_a_usage_error(tmp_path: Path, capsys):
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_bytes('- {q: "справка о несудимости", expect: criminal-record}\n'.encode("cp1251"))
    assert cli.main(["eval", str(eval_file)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(eval_file) in err


def test_console_with_an_unknown_database_scheme_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("как получить эцп\n"))
    assert cli.main(["console", "--database", "nosuchdb://somewhere"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("egov-bot: ")
    assert "database" in err.lower()


def test_console_with_an_unreachable_database_file_is_one_line(tmp_path: Path):
    # A subprocess: the failing connection's worker thread would outlive an in-process event loop.
    result = egov_bot("console", "--database", f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/db.sqlite3",
                      cwd=tmp_path, stdin="как получить эцп\n")
    line = assert_one_line_error(result)
    assert "database" in line.lower()


# --- one settings path: option, then environment, then .env ------------------------------------------


def test_every_command_reads_database_and_knowledge_from_dot_env(tmp_path: Path, make_kb) -> None:
    import sqlite3

    tiny = make_kb(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    db = tmp_path / "from-env.sqlite3"
    (work / ".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{db}\nKNOWLEDGE_DIR={tiny.directory}\n",
                               encoding="utf-8")

    assert egov_bot("db", "upgrade", cwd=work).returncode == 0
    assert db.is_file() and not (work / "egov-bot.sqlite3").exists()
    chat = egov_bot("console", cwd=work, stdin="где купить билет в кино\n")
    assert chat.returncode == 0 and "#1" in chat.stdout, chat.stdout + chat.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM tickets").fetchone() == (1,)
    stats = egov_bot("stats", cwd=work)
    assert "questions asked: 1" in stats.stdout, stats.stdout + stats.stderr
    assert egov_bot("kb", "drafts", cwd=work).stdout.strip() == "# no drafts yet"
    lint = egov_bot("kb", "lint", cwd=work)
    entries = len(load_knowledge(tiny.directory).entries)
    assert entries < 10 and lint.returncode == 0  # the tiny base of .env, not the bundled one
    # An option beats the environment, and the environment beats .env.
    other = tmp_path / "option.sqlite3"
    assert egov_bot("db", "upgrade", "--database", f"sqlite+aiosqlite:///{other}", cwd=work).returncode == 0
    assert other.is_file()
    third = tmp_path / "environment.sqlite3"
    assert egov_bot("db", "upgrade", cwd=work, env={"DATABASE_URL": f"sqlite+aiosqlite:///{third}"}).returncode == 0
    assert third.is_file()


def test_start_with_the_token_in_dot_env_starts_the_telegram_bot(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:ABC\n", encoding="utf-8")
    result = egov_bot("start", cwd=tmp_path, stdin="как получить эцп\n")
    # The Telegram bot's own settings check speaks (the console would have answered the question).
    assert "LIBRARIAN_CHAT_ID" in assert_one_line_error(result)


# --- open_helpdesk(): the HelpDesk of the database commands ----------------------------------------


async def test_open_helpdesk_migrates_and_disposes_the_store_even_on_errors(tmp_path: Path, make_kb) -> None:
    from bot.cli.common import open_helpdesk

    tiny = make_kb(tmp_path)
    database = tmp_path / "db.sqlite3"
    disposed = []
    with pytest.raises(RuntimeError):
        async with open_helpdesk(str(tiny.directory), f"sqlite+aiosqlite:///{database}") as helpdesk:
            dispose = helpdesk.store.dispose

            async def recorded() -> None:
                disposed.append(True)
                await dispose()

            helpdesk.store.dispose = recorded
            assert helpdesk.knowledge.kb.directory == tiny.directory
            assert [e.id for e in helpdesk.knowledge.kb.entries] == list(TINY_IDS)
            raise RuntimeError("the command failed")
    assert disposed == [True]
    with closing(sqlite3.connect(database)) as connection:  # migrated on opening
        assert connection.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
