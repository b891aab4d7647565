"""The compiled index on disk: a loaded knowledge base and its built Matcher, kept between processes.

Loading and validating the YAML and building the index take most of a short command's time (`egov-bot
match`, `kb lint`, the bot's start and /reload); unpickling the result takes a few milliseconds. A cache
file is used only when everything that went into it is the same:

- the knowledge files (every file of the knowledge directory and of its services/ folder, by content);
- the code that reads and indexes them (every file of the bot package, by content), the Python version and the
  installed numpy, rapidfuzz, snowballstemmer and PyYAML (by their files), so a change of matching code never
  serves an index the old code built;
- the directory as named and as resolved (problems name files relative to it), and today's date (the
  review-date warnings depend on it).

The cache is only ever an optimisation: a directory that cannot be created or written, a file that is
corrupt, truncated, from another version or not ours is ignored (and rebuilt where it can be written),
never an error. Where: bot.config.cache_directory (EGOV_BOT_CACHE_DIR, "off" to disable; else
$XDG_CACHE_HOME/egov-bot or ~/.cache/egov-bot). Files are written atomically (a temporary file renamed
into place), so concurrent processes never read half a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matching import Matcher

FORMAT = 5                       # bump when what a cache file holds changes shape
STALE_DAYS = 30                  # cache files untouched this long are removed when a new one is written
_SUFFIX = ".index.pickle"
_CODE_DIR = Path(__file__).resolve().parent

_code_version: str | None = None


def code_version() -> str:
    """A digest of the code that builds the index: the bot package, the interpreter and the libraries it uses."""
    global _code_version
    if _code_version is None:
        import numpy
        import rapidfuzz
        import snowballstemmer
        import yaml

        digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{unicodedata.unidata_version}\0".encode())
        for path in sorted(_CODE_DIR.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                digest.update(path.relative_to(_CODE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        for module in (numpy, rapidfuzz, snowballstemmer, yaml):
            stat = os.stat(module.__file__)
            digest.update(f"{module.__name__} {getattr(module, '__version__', '')} {module.__file__} "
                          f"{stat.st_size} {stat.st_mtime_ns}\0".encode())
        _code_version = digest.hexdigest()
    return _code_version


def knowledge_digest(directory: Path) -> str:
    """A digest of the knowledge files' names and contents (the directory's files and services/'s)."""
    digest = hashlib.sha256()
    for folder in (directory, directory / "services"):
        try:
            paths = sorted(p for p in folder.iterdir() if p.is_file())
        except OSError:
            paths = []  # a missing folder: load_knowledge says so
        digest.update(f"{folder.name}/\0".encode())
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_file(directory: Path, cache_dir: Path) -> tuple[Path, str]:
    """The cache file for a knowledge directory, and the key that file must hold to be used."""
    slot = hashlib.sha256(f"{directory}\0{directory.resolve()}\0{code_version()}".encode()).hexdigest()[:20]
    key = f"{slot}:{knowledge_digest(directory)}:{dt.date.today().isoformat()}"
    return cache_dir / f"{slot}-{hashlib.sha256(key.encode()).hexdigest()[:20]}{_SUFFIX}", key


def _ours(path: Path) -> bool:
    """A file only this user could have written (a shared, writable cache must not feed us pickles)."""
    if not hasattr(os, "getuid"):
        return True
    stat = path.stat()
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o022


def _read(path: Path, key: str) -> Matcher | None:
    try:
        if not path.is_file() or not _ours(path):
            return None
        with path.open("rb") as stream:
            stored = pickle.load(stream)
    except Exception:  # noqa: BLE001 - corrupt, truncated, unreadable or from other code: rebuilt
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("matcher"), Matcher):
        return None
    matcher = stored["matcher"]
    return matcher if isinstance(matcher.kb, KnowledgeBase) else None


def _write(path: Path, key: str, matcher: Matcher) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = pickle.dumps({"key": key, "matcher": matcher}, protocol=pickle.HIGHEST_PROTOCOL)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:  # noqa: BLE001 - a read-only or full disk, an unpicklable index: only speed is lost
        return
    _prune(path)


def _prune(kept: Path) -> None:
    """Remove this slot's older files (the knowledge changed, or the day) and anybody's stale ones."""
    slot = kept.name.split("-", 1)[0]
    limit = time.time() - STALE_DAYS * 86400
    try:
        for path in kept.parent.glob(f"*{_SUFFIX}"):
            if path != kept and (path.name.startswith(slot + "-") or path.stat().st_mtime < limit):
                path.unlink(missing_ok=True)
    except OSError:
        pass


def load_indexed(directory: Path | str, cache_dir: Path | None | bool = True) -> Matcher:
    """The Matcher (its knowledge base is `.kb`) of a knowledge directory: from the cache when the cache holds
    this very knowledge and code, else loaded, validated and built (and cached). Raises KnowledgeError
    as load_knowledge does. cache_dir: True for bot.config.cache_directory(), None or False for no cache."""
    directory = Path(directory)
    if cache_dir is True:
        from bot.config import cache_directory

        cache_dir = cache_directory()
    path = key = None
    if cache_dir:
        try:
            path, key = cache_file(directory, Path(cache_dir))
        except OSError:
            path = None  # unreadable knowledge files: load_knowledge reports them
        if path is not None:
            matcher = _read(path, key)
            if matcher is not None:
                return matcher
    matcher = Matcher(load_knowledge(directory))
    if path is not None:
        try:
            unchanged = cache_file(directory, Path(cache_dir))[1] == key  # not edited while it was being read
        except OSError:
            unchanged = False
        if unchanged:
            _write(path, key, matcher)
    return matcher
