"""How fast the matcher answers, and how that holds up as the knowledge base grows.

Run from the project root:  .venv/bin/python benchmarks/bench_match.py
Options: --scales 1,10,100  --queries 400  --naive-queries 200  --repeat 1  --process-runs 5  --seed 2026
(the defaults take about 2.5 minutes on 2 cores, most of it building the x100 index and the naive scan).

What it measures, per knowledge-base scale:

- Scales. x1 is the bundled knowledge base. xN keeps every real entry and adds N-1 synthetic copies of
  each one (ids "<id>-syn<k>"). A copy's question variants and titles are the real ones perturbed
  deterministically: a letter swapped, dropped or doubled, words shuffled, and two pseudo-words
  appended: one of the copy's own "topic" words, which make it distinguishable the way "несудимость"
  makes a real entry, and one from a shared pool drawn with a skewed, Zipf-like frequency. So the
  entries, the postings lists of common words and the vocabulary that typos are corrected against all
  really grow. The "vocab" column (distinct stems of variants and titles, by bot.text.stems with its
  default stemming) shows by how much: about 8x at x10 and 57x at x100 (misspellings of the same words
  repeat; real vocabulary growth is sublinear too).
- Queries. A fixed list (the same at every scale): half sampled from the question files
  (tests/data/eval.yaml and ../shared/eval/dev.yaml when present; real citizen phrasing, negatives,
  transliteration and layout mistakes), half generated from the bundled entries (typos, Russian typed on
  the English layout, Latin transliteration, keywords only, greetings around the question, off-topic).
- Matcher latency. For every repeat, a fresh Matcher is built (its build time is reported; the stem
  cache of bot.text is cleared first so every build starts cold), warmed up with a separate set of
  generated questions, then every query is timed once with time.perf_counter_ns around Matcher.match_afresh
  (Matcher.match without its cache of whole decisions, which a repeated question would hit):
  "first sight" is this pass, where each query finds the matcher's per-word caches as the warm-up and
  the earlier queries left them, as a citizen's question would; "seen" is a second pass over the same
  queries, where every word is already cached. Targets are judged on first sight.
- Naive scan: rapidfuzz process.extractOne over every question variant of the scaled knowledge base
  with fuzz.WRatio and utils.default_process. The choices are processed once, beforehand; the timed call
  processes the query and scans every variant (the same result as passing processor=, minus redoing
  the choices on every call, so the baseline is not handicapped). extractOne stops early on a perfect
  score, as any naive scan would. To keep the run short it is timed on the first --naive-queries of the
  (shuffled) queries; the speed-up columns compare the matcher's first-sight figures on those same ones.
- Per pass: median and p99 (nearest rank) latency per question, and questions per second on one core
  (number of questions / summed latencies). Speed-up is naive / matcher for the median and the p99.
- The whole command: `python -m bot match "как получить эцп"` (and the egov-bot console script when it
  is installed) run as a process from the project root: interpreter start, imports, loading and
  validating the knowledge base, building the index and answering. Median wall time of several runs.
- Memory: the peak resident set size of this benchmark process (getrusage ru_maxrss) once the matcher of
  each scale has been built and has answered, read before the benchmark's own work that follows (the naive
  scan's copy of every variant, the vocabulary count); the whole process's peak is printed at the end.

Targets (from the issue, 2-core machine): p99 <= 2 ms at x1 and <= 15 ms at x100; at x100 at least 5
times faster than the naive scan; the whole `egov-bot match` process under 1 s for the bundled base.
This script prints numbers and how they compare with the targets; it never fails on them.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import resource
import statistics
import string
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import yaml
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's bot package, not whichever one is installed

from bot import text as textnorm  # noqa: E402
from bot.knowledge import Entry, KnowledgeBase, bundled_knowledge_dir, load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402

QUESTION_FILES = (ROOT / "tests" / "data" / "eval.yaml", ROOT.parent / "shared" / "eval" / "dev.yaml")
PROCESS_QUESTION = "как получить эцп"
WARMUP_QUESTIONS = 50
SLOWEST_SHOWN = 5
T = TypeVar("T")

TARGET_P99_MS = {1: 2.0, 100: 15.0}
TARGET_SPEEDUP = 5.0  # at x100, naive median / matcher median
TARGET_PROCESS_S = 1.0

# Synthetic copies: how their question variants are perturbed.
# Tuned so the vocabulary grows about 8x at x10 and 55-60x at x100.
TYPO_RATE = 0.5             # share of variants with one misspelt word
SHUFFLE_RATE = 0.3          # share of variants with the word order shuffled
TOPIC_WORDS = 3             # pseudo-words of each copy's own; every variant gets one of them ...
SHARED_POOL_PER_ENTRY = 25  # ... and one from a shared pool of this many words per synthetic entry,
SHARED_SKEW = 2.0           # drawn at index len * random() ** SHARED_SKEW: a few words are frequent

_ONSETS = "бвгджзклмнпрстфхцчш"
_VOWELS = "аеиоуыя"
_CODAS = "кмнрст"

# Russian letters typed on the English layout: the inverse of bot.text.from_layout.
_TO_QWERTY = {
    textnorm.from_layout(char): char
    for char in string.ascii_lowercase + string.punctuation
    if textnorm.from_layout(char) != char
}
_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}
_POLITE = (
    ("здравствуйте, подскажите", "пожалуйста"),
    ("добрый день!", "спасибо"),
    ("сәлеметсіз бе, айтыңызшы", "рахмет"),
    ("помогите пожалуйста", "срочно"),
)
_OFF_TOPIC = (
    "как приготовить плов с бараниной",
    "какая завтра погода в алматы",
    "посоветуйте хороший сериал на выходные",
    "ертең күн қандай болады",
    "где купить зимние шины недорого",
    "сколько стоит билет в кино",
)


# --- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    median_ms: float
    p99_ms: float
    qps: float

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Stats:
        ordered = sorted(samples_ns)
        p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
        return cls(statistics.median(ordered) / 1e6, p99 / 1e6, 1e9 * len(ordered) / sum(ordered))


def time_each(call: Callable[[str], T], queries: Sequence[str]) -> tuple[list[int], list[T]]:
    """Latency of every call in nanoseconds, and what each call returned."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    results: list[T] = []
    gc.collect()
    for query in queries:
        start = clock()
        result = call(query)
        samples.append(clock() - start)
        results.append(result)
    return samples, results


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- synthetic knowledge base -------------------------------------------------------------------


class PseudoWords:
    """Fresh, pronounceable, Cyrillic non-words ("топарин", "кумесык"), never the same one twice."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def fresh(self) -> str:
        while True:
            syllables = (
                self._rng.choice(_ONSETS) + self._rng.choice(_VOWELS)
                + (self._rng.choice(_CODAS) if self._rng.random() < 0.3 else "")
                for _ in range(self._rng.randint(2, 4))
            )
            word = "".join(syllables)
            if word not in self._seen:
                self._seen.add(word)
                return word


def misspell(word: str, rng: random.Random) -> str:
    """The word with two neighbouring letters swapped, one letter dropped or one doubled."""
    i = rng.randrange(len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def perturb(text: str, extra: Iterable[str], rng: random.Random) -> str:
    words = text.split()
    long_words = [i for i, word in enumerate(words) if len(word) >= 4]
    if long_words and rng.random() < TYPO_RATE:
        i = rng.choice(long_words)
        words[i] = misspell(words[i], rng)
    words.extend(extra)
    if rng.random() < SHUFFLE_RATE:
        rng.shuffle(words)
    return " ".join(words)


def scale_knowledge(kb: KnowledgeBase, factor: int, seed: int) -> KnowledgeBase:
    """The knowledge base with factor-1 synthetic copies of every entry added (see the module docstring)."""
    if factor <= 1:
        return kb
    rng = random.Random(f"{seed}:x{factor}")
    words = PseudoWords(rng)
    shared = [words.fresh() for _ in range(SHARED_POOL_PER_ENTRY * len(kb.entries) * (factor - 1))]

    def extra(topic: list[str]) -> list[str]:
        return [rng.choice(topic), shared[int(len(shared) * rng.random() ** SHARED_SKEW)]]

    copies: list[Entry] = []
    for k in range(1, factor):
        for entry in kb.entries:
            topic = [words.fresh() for _ in range(TOPIC_WORDS)]
            copies.append(replace(
                entry,
                id=f"{entry.id}-syn{k}",
                title={lang: perturb(title, extra(topic), rng) for lang, title in entry.title.items()},
                questions={
                    lang: tuple(perturb(question, extra(topic), rng) for question in questions)
                    for lang, questions in entry.questions.items()
                },
                question_lines={},
            ))
    return replace(kb, entries=kb.entries + tuple(copies))


def question_variants(kb: KnowledgeBase) -> list[str]:
    return [question for entry in kb.entries for _, question in entry.all_questions()]


def vocabulary_size(kb: KnowledgeBase) -> int:
    texts = question_variants(kb) + [title for entry in kb.entries for title in entry.title.values()]
    stem = textnorm.uncached(textnorm.stem)  # not through the process-wide cache of stems: counting, not matching
    return len({stem(word, "ru") for text in texts for word in textnorm.tokens(textnorm.clean(text))})


# --- queries ------------------------------------------------------------------------------------


def file_questions() -> list[str]:
    questions: list[str] = []
    for path in QUESTION_FILES:
        if path.is_file():
            items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            questions.extend(str(item["q"]) for item in items if isinstance(item, dict) and item.get("q"))
    return list(dict.fromkeys(questions))


def generated_questions(kb: KnowledgeBase, count: int, rng: random.Random) -> list[str]:
    """Questions made from the knowledge base's own variants, the ways citizens mistype them."""
    russian = [q for entry in kb.entries for q in entry.questions.get("ru", ()) if not textnorm.has_kazakh_letters(q)]
    every = question_variants(kb)

    def typo() -> str:
        words = rng.choice(every).split()
        for _ in range(rng.randint(1, 2)):
            long_words = [i for i, word in enumerate(words) if len(word) >= 4]
            if long_words:
                i = rng.choice(long_words)
                words[i] = misspell(words[i], rng)
        return " ".join(words)

    def layout() -> str:
        return "".join(_TO_QWERTY.get(char, char) for char in rng.choice(russian).lower())

    def translit() -> str:
        return "".join(_TO_LATIN.get(char, char) for char in rng.choice(russian).lower())

    def keywords() -> str:
        words = rng.choice(every).split()
        return " ".join(sorted(words, key=len, reverse=True)[:2])

    def polite() -> str:
        before, after = rng.choice(_POLITE)
        return f"{before} {rng.choice(every)} {after}"

    def off_topic() -> str:
        return rng.choice(_OFF_TOPIC)

    makers = (typo, typo, layout, translit, keywords, polite, off_topic)
    questions: dict[str, None] = {}
    attempts = 0
    while len(questions) < count and attempts < 100 * count:
        questions[makers[attempts % len(makers)]()] = None
        attempts += 1
    return list(questions)


def benchmark_queries(kb: KnowledgeBase, count: int, seed: int) -> list[str]:
    rng = random.Random(f"{seed}:queries")
    from_files = file_questions()
    chosen = rng.sample(from_files, min(len(from_files), count // 2))
    taken = set(chosen)
    chosen += [q for q in generated_questions(kb, count, rng) if q not in taken][: count - len(chosen)]
    rng.shuffle(chosen)
    return chosen


# --- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleResult:
    factor: int
    entries: int
    variants: int
    vocabulary: int
    build_s: float
    first_sight: Stats
    seen: Stats
    naive: Stats
    paired: Stats  # the matcher, first sight, on the questions the naive scan was timed on
    decisions: Counter[str]
    slowest: list[tuple[float, str]]  # (ms, question), first sight, slowest first
    peak_rss_mib: float


def clear_text_caches() -> None:
    """Forget the stems bot.text has memoised, so each index build starts from the same cold state."""
    cache_clear = getattr(textnorm.stem, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


def measure_scale(
    kb: KnowledgeBase, factor: int, queries: list[str], warmup: list[str], repeat: int, naive_count: int,
) -> ScaleResult:
    builds: list[float] = []
    first: list[int] = []
    again: list[int] = []
    decisions: Counter[str] = Counter()
    for _ in range(repeat):
        clear_text_caches()
        gc.collect()
        start = time.perf_counter()
        matcher = Matcher(kb)
        builds.append(time.perf_counter() - start)
        for question in warmup:
            matcher.match(question)
        samples, results = time_each(matcher.match_afresh, queries)
        first += samples
        decisions.update(decision.action for decision in results)
        again += time_each(matcher.match_afresh, queries)[0]
        del matcher
    matcher_peak = peak_rss_mib()  # the matcher's build and answers; what follows is the benchmark's own work

    variants = question_variants(kb)
    choices = [utils.default_process(variant) for variant in variants]

    def naive(query: str) -> object:
        return process.extractOne(utils.default_process(query), choices, scorer=fuzz.WRatio, processor=None)

    naive(warmup[0])
    slow: list[int] = []
    for _ in range(repeat):
        slow += time_each(naive, queries[:naive_count])[0]
    paired = [ns for i, ns in enumerate(first) if i % len(queries) < naive_count]
    return ScaleResult(
        factor=factor, entries=len(kb.entries), variants=len(variants), vocabulary=vocabulary_size(kb),
        build_s=statistics.median(builds), first_sight=Stats.of(first), seen=Stats.of(again),
        naive=Stats.of(slow), paired=Stats.of(paired), decisions=decisions, peak_rss_mib=matcher_peak,
        slowest=sorted(((ns / 1e6, query) for ns, query in zip(first, queries * repeat)), reverse=True)[:SLOWEST_SHOWN],
    )


def process_times(command: list[str], runs: int) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
    return times


# --- reporting ----------------------------------------------------------------------------------


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(results: list[ScaleResult]) -> None:
    print("\nlatency per question, first sight (ms), and questions per second on one core")
    print_table(
        ("scale", "entries", "variants", "vocab", "build s",
         "median", "p99", "qps", "naive med", "naive p99", "naive qps", "speed-up med", "speed-up p99"),
        [(f"x{r.factor}", str(r.entries), str(r.variants), str(r.vocabulary), f"{r.build_s:.2f}",
          f"{r.first_sight.median_ms:.3f}", f"{r.first_sight.p99_ms:.3f}", f"{r.first_sight.qps:.0f}",
          f"{r.naive.median_ms:.3f}", f"{r.naive.p99_ms:.3f}", f"{r.naive.qps:.0f}",
          f"{r.naive.median_ms / r.paired.median_ms:.1f}x", f"{r.naive.p99_ms / r.paired.p99_ms:.1f}x")
         for r in results],
    )
    print("\nmatcher on questions already seen (per-word caches warm), and what it decided on first sight")
    print_table(
        ("scale", "median", "p99", "qps", "answer", "clarify", "escalate", "peak RSS MiB"),
        [(f"x{r.factor}", f"{r.seen.median_ms:.3f}", f"{r.seen.p99_ms:.3f}", f"{r.seen.qps:.0f}",
          str(r.decisions["answer"]), str(r.decisions["clarify"]), str(r.decisions["escalate"]),
          f"{r.peak_rss_mib:.0f}")
         for r in results],
    )
    largest = results[-1]
    print(f"\nslowest questions at x{largest.factor}, first sight")
    for ms, question in largest.slowest:
        print(f"  {ms:8.3f} ms  {question}")
    by_factor = {r.factor: r for r in results}
    print("\ntargets")
    for factor, limit in TARGET_P99_MS.items():
        if factor in by_factor:
            p99 = by_factor[factor].first_sight.p99_ms
            print(f"  p99 at x{factor}: {p99:.3f} ms (target <= {limit} ms) {verdict(p99 <= limit)}")
    if 100 in by_factor:
        r = by_factor[100]
        speedup = r.naive.median_ms / r.paired.median_ms
        print(f"  speed-up over the naive scan at x100: {speedup:.1f}x median, "
              f"{r.naive.p99_ms / r.paired.p99_ms:.1f}x p99 (target >= {TARGET_SPEEDUP:.0f}x) "
              f"{verdict(speedup >= TARGET_SPEEDUP)}")


def report_processes(runs: int) -> None:
    commands = [("python -m bot match", [sys.executable, "-m", "bot", "match", PROCESS_QUESTION])]
    script = Path(sys.executable).parent / "egov-bot"
    if script.is_file():
        commands.append(("egov-bot match", [str(script), "match", PROCESS_QUESTION]))
    print(f"\nwhole process: load, validate, index, answer \"{PROCESS_QUESTION}\" (wall time of {runs} runs)")
    for name, command in commands:
        times = process_times(command, runs)
        median = statistics.median(times)
        print(f"  {name}: median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}) "
              f"(target < {TARGET_PROCESS_S:.0f} s) {verdict(median < TARGET_PROCESS_S)}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100", help="knowledge-base scale factors (default: 1,10,100)")
    parser.add_argument("--queries", type=int, default=400, help="questions timed per pass (default: 400)")
    parser.add_argument("--naive-queries", type=int, default=200,
                        help="questions the naive scan is timed on, the first of the list (default: 200; 0: all)")
    parser.add_argument("--repeat", type=int, default=1, help="fresh index builds and timed passes per scale (default: 1)")
    parser.add_argument("--process-runs", type=int, default=5, help="runs of the whole command (default: 5; 0 skips)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic data and the queries")
    args = parser.parse_args(argv)
    try:
        args.scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    except ValueError:
        parser.error("--scales takes comma-separated whole numbers, like 1,10,100")
    if not args.scales or min(args.scales) < 1 or args.queries < 1 or args.repeat < 1:
        parser.error("scales, --queries and --repeat must be at least 1")
    if args.naive_queries < 0 or args.process_runs < 0:
        parser.error("--naive-queries and --process-runs cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    kb = load_knowledge(bundled_knowledge_dir())
    load_s = time.perf_counter() - start
    queries = benchmark_queries(kb, args.queries, args.seed)
    timed = set(queries)
    candidates = generated_questions(kb, 2 * WARMUP_QUESTIONS, random.Random(f"{args.seed}:warmup"))
    warmup = [q for q in candidates if q not in timed][:WARMUP_QUESTIONS]
    print(f"bundled knowledge base: {len(kb.entries)} entries, loaded and validated in {load_s:.3f} s")
    naive_count = min(args.naive_queries or len(queries), len(queries))
    print(f"{len(queries)} queries ({min(len(file_questions()), args.queries // 2)} from the question files), "
          f"{len(warmup)} warm-up questions, {args.repeat} repeat(s); python {sys.version.split()[0]}")
    print(f"the naive scan is timed on the first {naive_count} queries (a random sample: the list is shuffled); "
          f"speed-up compares the matcher on the same ones")
    results: list[ScaleResult] = []
    for factor in args.scales:
        sys.stdout.flush()  # keep the report in step with the progress on stderr
        print(f"x{factor}: building and timing ...", file=sys.stderr, flush=True)
        scaled = scale_knowledge(kb, factor, args.seed)
        results.append(measure_scale(scaled, factor, queries, warmup, args.repeat, naive_count))
    report(results)
    if args.process_runs:
        report_processes(args.process_runs)
    print(f"\npeak RSS of this benchmark process: {peak_rss_mib():.0f} MiB; total run {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
