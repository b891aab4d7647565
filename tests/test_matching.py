"""bot.matching: a question in, a Decision out. Assertions are on entry ids and decisions, not scores."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge import KnowledgeBase
from bot.matching import Decision, Matcher

DECISIONS = {"answer", "clarify", "escalate"}
LANGS = {"ru", "kk"}


def assert_answers(decision: Decision, expected: str) -> None:
    assert decision.action == "answer", (decision.action, [c.id for c in decision.candidates])
    assert decision.entry_id == expected


def assert_answers_or_offers(decision: Decision, expected: str) -> None:
    if decision.action == "answer":
        assert decision.entry_id == expected
    else:
        assert decision.action == "clarify", (decision.action, [c.id for c in decision.candidates])
        assert expected in [c.id for c in decision.candidates]


def assert_valid(decision: Decision) -> None:
    assert decision.action in DECISIONS
    assert decision.lang in LANGS
    ids = [c.id for c in decision.candidates]
    assert len(ids) == len(set(ids))
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True)
    if decision.action == "answer":
        assert decision.entry_id is not None and decision.entry_id == ids[0]
    else:
        assert decision.entry_id is None


# --- questions as citizens type them ----------------------------------------------------------

ANSWERED = [
    # plain
    pytest.param("как получить эцп", "eds-obtain", id="plain"),
    pytest.param("справка о несудимости", "criminal-record", id="plain-criminal"),
    # typos
    pytest.param("шрафы пдд", "traffic-fines", id="typo-fines"),
    pytest.param("как палучить эцп", "eds-obtain", id="typo-eds"),
    pytest.param("справка о несудимасти", "criminal-record", id="typo-criminal"),
    # word order
    pytest.param("пдд штрафы", "traffic-fines", id="order-fines"),
    pytest.param("эцп получить как", "eds-obtain", id="order-eds"),
    pytest.param("несудимости справка о", "criminal-record", id="order-criminal"),
    # Kazakh
    pytest.param("электрондық цифрлық қолтаңба алу", "eds-obtain", id="kk-eds"),
    pytest.param("соттылық туралы анықтама", "criminal-record", id="kk-criminal"),
    # Latin transliteration
    pytest.param("kak poluchit ecp", "eds-obtain", id="translit-eds"),
    # Russian typed in the English layout
    pytest.param("rfr gjkexbnm 'wg", "eds-obtain", id="layout-eds"),
    # filler words and emoji around a question
    pytest.param("здравствуйте! подскажите пожалуйста, как получить эцп? 🙏🙏", "eds-obtain", id="filler"),
    pytest.param("😊 как получить эцп 😊", "eds-obtain", id="emoji"),
    pytest.param("КАК ПОЛУЧИТЬ ЭЦП???", "eds-obtain", id="shouting"),
    pytest.param("как\u200b получить эцп", "eds-obtain", id="zero-width"),
]


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_answers(matcher: Matcher, question: str, expected: str):
    decision = matcher.match(question)
    assert_valid(decision)
    assert_answers(decision, expected)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param("эцк калай алуга болады", "eds-obtain", id="kk-in-russian-letters"),
        pytest.param("соттылык туралы аныктама", "criminal-record", id="kk-criminal-in-russian-letters"),
    ],
)
def test_kazakh_typed_with_russian_letters(matcher: Matcher, question: str, expected: str):
    decision = matcher.match(question)
    assert_valid(decision)
    assert_answers_or_offers(decision, expected)


@pytest.mark.parametrize(
    "question",
    ["справка", "как получить", "алу", "получить справку", "анықтама алу", "получить"],
    ids=["spravka", "kak-poluchit", "alu", "poluchit-spravku", "anyktama-alu", "poluchit"],
)
def test_common_words_alone_are_never_answered(matcher: Matcher, question: str):
    decision = matcher.match(question)
    assert_valid(decision)
    assert decision.action != "answer", f"{question!r} answered with {decision.entry_id}"


@pytest.mark.parametrize(
    "question",
    ["", " ", "   \t\n", "😀🙏🎉", "?!...", "— … ***", "\u200b\u200d", "\x00\x07"],
    ids=["empty", "space", "whitespace", "emoji", "punctuation", "dashes", "zero-width", "control"],
)
def test_no_words_escalates(matcher: Matcher, question: str):
    decision = matcher.match(question)
    assert decision.action == "escalate"
    assert decision.reason == "no-words"
    assert decision.entry_id is None
    assert decision.candidates == ()
    assert decision.lang in LANGS


@pytest.mark.parametrize("question", [None, 123])
def test_non_text_does_not_raise(matcher: Matcher, question):
    assert_valid(matcher.match(question))


def test_very_long_text_does_not_raise(matcher: Matcher):
    assert_valid(matcher.match("как получить эцп " * 2000))


@pytest.mark.parametrize(
    "question",
    ["рецепт бешбармака по домашнему", "абырвалг фывапролд", "бүгін ауа райы қандай", "какая погода завтра в темиртау"],
    ids=["recipe", "gibberish", "kk-weather", "weather"],
)
def test_unrelated_questions_are_not_answered(matcher: Matcher, question: str):
    decision = matcher.match(question)
    assert_valid(decision)
    assert decision.action == "escalate"
    assert decision.reason != "no-words"


@settings(max_examples=300, deadline=None)
@given(question=st.text())
def test_match_never_raises(matcher: Matcher, question: str):
    decision = matcher.match(question)
    assert_valid(decision)
    assert set(decision.to_json(question)) == {"question", "decision", "entry", "candidates", "lang"}


@settings(max_examples=100, deadline=None)
@given(question=st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі qwertyuiop[];',. ", max_size=60))
def test_match_never_raises_on_word_like_text(matcher: Matcher, question: str):
    assert_valid(matcher.match(question))


# --- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("электрондық цифрлық қолтаңба алу", "kk"),
        ("ЭЦҚ", "kk"),
        ("соттылық туралы анықтама керек", "kk"),
        ("сәлем", "kk"),
        ("как получить эцп", "ru"),
        ("справка о несудимости", "ru"),
        ("kak poluchit ecp", "ru"),
        ("", "ru"),
    ],
    ids=["kk-eds", "kk-short", "kk-criminal", "kk-hello", "ru-eds", "ru-criminal", "ru-translit", "empty"],
)
def test_language_detection(matcher: Matcher, question: str, lang: str):
    assert matcher.match(question).lang == lang


# --- decision shapes --------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["справка", "получить справку"], ids=["spravka", "poluchit-spravku"])
def test_clarify_offers_two_or_three_candidates(matcher: Matcher, question: str):
    decision = matcher.match(question)
    assert decision.action == "clarify"
    assert 2 <= len(decision.candidates) <= 3
    assert decision.entry_id is None
    assert decision.reason in ("close-call", "unsure", "one-word")


def test_clarify_on_certificates_offers_the_certificates(matcher: Matcher):
    offered = {c.id for c in matcher.match("справка").candidates}
    assert {"address-certificate", "criminal-record"} <= offered


def test_clarify_never_offers_a_single_option(matcher: Matcher):
    # A one-option "choice" is not a choice: typos and near misses must still offer 2-3 options.
    questions = ("шрафы пдд", "шрафы за превышение скорости", "курс евро", "население астаны", "ИМ", "пенсия", "права")
    for question in questions:
        decision = matcher.match(question)
        if decision.action == "clarify":
            assert 2 <= len(decision.candidates) <= 3, (question, [c.id for c in decision.candidates])


def test_to_json_contract(matcher: Matcher):
    question = "как получить эцп"
    data = matcher.match(question).to_json(question)
    assert list(data) == ["question", "decision", "entry", "candidates", "lang"]
    assert data["question"] == question
    assert data["decision"] == "answer" and data["entry"] == "eds-obtain"
    assert data["lang"] == "ru"
    assert data["candidates"][0]["id"] == "eds-obtain"
    for candidate in data["candidates"]:
        assert set(candidate) == {"id", "score"}
        assert isinstance(candidate["id"], str) and isinstance(candidate["score"], float)


def test_to_json_of_no_words(matcher: Matcher):
    assert matcher.match("").to_json("") == {"question": "", "decision": "escalate", "entry": None,
                                            "candidates": [], "lang": "ru"}


def test_candidates_are_entries_of_the_knowledge_base(kb: KnowledgeBase, matcher: Matcher):
    for question in ("справка", "как получить эцп", "пенсия", "штрафы"):
        for candidate in matcher.match(question).candidates:
            assert kb.entry(candidate.id) is not None


def test_match_is_deterministic(matcher: Matcher):
    first = matcher.match("справка о несудимости онлайн")
    assert matcher.match("справка о несудимости онлайн") == first


# --- the knowledge base against its own matcher -------------------------------------------------


def test_every_question_variant_is_never_answered_with_another_entry(kb: KnowledgeBase, matcher: Matcher):
    wrong = []
    own = 0
    total = 0
    for entry in kb.entries:
        for lang, question in entry.all_questions():
            total += 1
            decision = matcher.match(question)
            if decision.action == "answer":
                if decision.entry_id == entry.id:
                    own += 1
                else:
                    wrong.append(f"{entry.path}:{entry.question_lines.get(f'{lang}:{question}')}: "
                                 f"{question!r} of {entry.id} answered with {decision.entry_id}")
    assert wrong == []
    assert own >= 0.9 * total  # most variants are answered directly with their own entry


def test_matcher_on_a_tiny_knowledge_base(make_kb, tmp_path):
    from bot.knowledge import load_knowledge

    matcher = Matcher(load_knowledge(make_kb(tmp_path).directory))
    assert_answers(matcher.match("как получить эцп"), "tiny-eds")
    assert_answers(matcher.match("электронная цифровая подпись"), "tiny-eds")  # a synonym of эцп
    assert_answers(matcher.match("адресная справка"), "tiny-address")
    assert matcher.match("справка").action == "clarify"


# --- knowing when it knows -------------------------------------------------------------------------


def test_unknown_grammar_words_weigh_by_their_frequency_and_topic_words_fully() -> None:
    from bot.wordinfo import MIN_WEIGHT, unknown_weight

    assert unknown_weight("является") == MIN_WEIGHT  # a very common verb tells almost nothing
    assert unknown_weight("требуется") < 0.6 and unknown_weight("осуществить") < 0.8
    assert unknown_weight("мадрида") == 1.0  # a name: the question is about something else
    assert unknown_weight("кино") == 1.0 and unknown_weight("бешбармака") == 1.0
    assert unknown_weight("жыртылып") == 1.0  # Kazakh (no resource here): full weight
    assert unknown_weight("общих") < 0.5 and unknown_weight("шенгенскую") == 1.0  # a common adjective, a rare one


@pytest.mark.parametrize("question", ["пособие", "жәрдемақы", "справка", "удостоверение"])
def test_one_word_that_several_entries_share_gets_a_choice(matcher: Matcher, question: str) -> None:
    decision = matcher.match(question)
    assert decision.action == "clarify" and len(decision.candidates) >= 2


@pytest.mark.parametrize(("question", "entry"), [("алименты", "alimony-paternity"), ("апостиль", "apostille"),
                                                 ("осмс", "medical-insurance"), ("регистрация тоо", "company-registration")])
def test_one_word_that_belongs_to_one_entry_is_answered(matcher: Matcher, question: str, entry: str) -> None:
    assert matcher.match(question).entry_id == entry


def test_a_clear_lead_with_an_unfamiliar_part_is_offered_not_escalated(matcher: Matcher) -> None:
    decision = matcher.match("нужна справка о несудимости для Мадрида")
    assert decision.action == "clarify" and [c.id for c in decision.candidates] == ["criminal-record"]
    # The words of a formal request ("каким образом", "осуществить", "прошу разъяснить порядок") frame it.
    for question in ("Каким образом можно осуществить получение электронной цифровой подписи",
                     "Прошу разъяснить порядок получения электронной цифровой подписи"):
        assert matcher.match(question).entry_id == "eds-obtain", question
    for question in ("курс евро", "какой курс доллара сегодня", "Как долететь до Мадрида"):
        assert matcher.match(question).action == "escalate", question


@pytest.mark.parametrize(("question", "entry"), [
    ("эцп не работает", "ncalayer"), ("пароль от ключа забыл", "eds-renew"), ("не приходит смс", "mobile-citizens-base"),
    ("егов ашылмайды", "egov-registration"), ("не могу подписать документ эцп", "ncalayer")])
def test_problem_reports_reach_the_entry_that_helps(matcher: Matcher, question: str, entry: str) -> None:
    assert matcher.match(question).entry_id == entry


def test_what_to_do_alone_is_not_an_answer(matcher: Matcher) -> None:
    assert matcher.match("что делать").action != "answer"


def test_a_long_run_of_one_letter_is_not_a_short_word_that_sounds_alike(matcher: Matcher) -> None:
    """"ыыыы..." merges to the sound of "е" (a one-letter word of a variant): that is no match."""
    assert matcher.match("ы" * 40).action == "escalate"


def test_a_weak_but_clear_lead_on_two_words_is_offered_one_word_is_not() -> None:
    from bot.matching import Candidate, Term, decide

    ranked = [Candidate("iin", 0.43, fit=0.46, typical=0.3, evidence=0.5), Candidate("apostille", 0.28, fit=0.3)]
    two = (Term("иин", "иин", 1.0, 0.5, True), Term("документов", "документ", 1.0, 0.5, True))
    one = (Term("курс", "курс", 1.0, 0.8, True), Term("евро", "евро", 0.0, 1.0, False))
    offered = decide(ranked, "ru", two)
    assert (offered.action, [c.id for c in offered.candidates], offered.reason) == ("clarify", ["iin"], "weak-lead")
    assert decide(ranked, "ru", one).action == "escalate"
    close = [ranked[0], Candidate("apostille", 0.38, fit=0.4)]  # no clear lead: a librarian's question
    assert decide(close, "ru", two).action == "escalate"


def test_a_very_good_fit_needs_a_smaller_lead() -> None:
    from bot.matching import Candidate, Term, decide

    terms = (Term("пароль", "парол", 1.0, 0.6, True), Term("эцп", "ецп", 1.0, 0.4, True))
    sure = [Candidate("eds-renew", 0.83, fit=0.85, typical=0.5, evidence=1.0), Candidate("egov-password-recovery", 0.79, fit=0.8)]
    assert decide(sure, "ru", terms).entry_id == "eds-renew"
    loose = [Candidate("eds-renew", 0.6, fit=0.62, typical=0.5, evidence=1.0), Candidate("egov-password-recovery", 0.56, fit=0.6)]
    assert decide(loose, "ru", terms).action == "clarify"


def test_an_entry_whose_variants_between_them_say_the_whole_question_leads_clearly() -> None:
    from bot.matching import Candidate, Term, decide

    terms = (Term("учет", "учет", 1.0, 0.6, True), Term("безработица", "безработиц", 1.0, 0.9, True))
    # No variant says all of it (fit 0.58), and the runner-up's best variant is nearly as good (lead 0.02) ...
    top = Candidate("unemployment", 0.5, fit=0.58, typical=0.3, evidence=0.9, coverage=1.0)
    close = [top, Candidate("military-registration", 0.48, fit=0.55, coverage=0.4)]
    assert decide(close, "ru", terms).entry_id == "unemployment"  # ... but only its variants use every word
    shared = [top, Candidate("military-registration", 0.48, fit=0.55, coverage=0.9)]
    assert decide(shared, "ru", terms).action == "clarify"  # another entry uses most of them too: a choice
    partly = [replace(top, coverage=0.7), close[1]]
    assert decide(partly, "ru", terms).action == "clarify"


def test_coverage_is_the_share_of_the_question_an_entry_uses_in_any_variant(matcher: Matcher) -> None:
    terms, _ = matcher.terms("справка о несудимости для Мадрида")
    best = matcher.rank(terms)[0]
    total = sum(t.weight for t in terms)
    known = sum(t.weight * t.similarity for t in terms if t.known)
    assert best.id == "criminal-record" and best.coverage == pytest.approx(known / total)
    assert 0 < best.coverage < 1  # "Мадрида" is in no entry


def test_ne_written_apart_meets_the_word_written_together(matcher: Matcher) -> None:
    """"не судим" is read as "несудим": it meets "несудимость", where "судим" alone stems to "суд" (court)."""
    terms, _ = matcher.terms("нужна бумага что я не судим")
    assert "судим" in [t.key for t in terms] and "суд" not in [t.key for t in terms]
    assert matcher.match("на работе просят бумагу что я не судим").entry_id == "criminal-record"
    # Only where the two make a dictionary word: "не работает" stays two words.
    assert "работа" in [t.key for t in matcher.terms("эцп не работает")[0]]


def test_a_question_asked_again_gets_the_same_decision_from_the_cache(kb):
    matcher = Matcher(kb)
    first = matcher.match("как получить эцп")
    assert matcher.match("как получить эцп") is first  # served from the cache of decisions
    assert matcher.match_afresh("как получить эцп") == first and matcher.match_afresh("как получить эцп") is not first
    restored = pickle.loads(pickle.dumps(matcher))  # the on-disk index cache: a cache of its own, empty
    assert restored.match("как получить эцп") == first


def test_a_dropped_matcher_is_freed_at_once_not_at_the_next_garbage_collection(make_kb, tmp_path):
    import gc
    import weakref

    from bot.knowledge import load_knowledge

    matcher = Matcher(load_knowledge(make_kb(tmp_path).directory))
    matcher.match("как получить эцп")  # the cache of decisions is filled: it must not hold the matcher
    index = weakref.ref(matcher.index)
    gc.disable()
    try:
        del matcher
        assert index() is None
    finally:
        gc.enable()


def test_hashed_keys_give_the_numbers_stored_under_a_key_in_order_and_hash_alike_in_every_process() -> None:
    import subprocess
    import sys

    from bot.matching.vocabulary import HashedKeys, stable_hash

    keys = HashedKeys(["тилифан", "справк", "тилифан", "ецп"], [7, 3, 5, 1])
    assert keys.values("тилифан") == [7, 5] and keys.values("справк") == [3] and keys.values("мадрид") == []
    assert "ецп" in keys and "мадрид" not in keys and len(keys) == 4
    # An index is pickled by one process and read by another: the hash must not be salted per process.
    code = "from bot.matching.vocabulary import stable_hash; print(stable_hash('тилифан'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}, cwd=str(__import__("pathlib").Path(__file__).parent.parent))
    assert int(other.stdout) == stable_hash("тилифан")


def test_a_misspelling_that_sounds_like_a_known_word_is_that_word(matcher: Matcher) -> None:
    reader = matcher.index.reader
    assert reader.lookup("тилифон") == ("телефон", 0.9) and reader.lookup("министирств")[0] == "министерств"
