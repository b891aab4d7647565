"""bot.text: the normalisation shared by the knowledge base and citizens' questions."""

from __future__ import annotations

import pytest

from bot import text


def kazakh_stem(word: str) -> str:
    """stem() of a word in a Kazakh question (stem takes the question's language where it can)."""
    try:
        return text.stem(word, "kk")
    except TypeError:  # a stem() without a language argument
        return text.stem(word)


class TestClean:
    def test_lowercases(self):
        assert text.clean("Как Получить ЭЦП") == "как получить эцп"

    def test_drops_zero_width_and_control_characters(self):
        dirty = "\ufeffКак\u200b получить\u00ad \u200dЭЦП\u2060\x00\x07"
        assert text.clean(dirty) == "как получить эцп"

    def test_keeps_newlines_and_tabs(self):
        assert text.clean("а\tб\nв") == "а\tб\nв"

    def test_nfkc_folds_full_width_letters(self):
        assert text.clean("ＥＣＰ") == "ecp"

    def test_combining_breve_is_not_left_behind(self):
        # "и" + combining breve composes to "й" under NFKC; nothing invisible remains.
        assert text.clean("и\u0306") == "й"


class TestKeyboardLayout:
    def test_english_layout_reads_as_russian(self):
        assert text.from_layout("rfr gjkexbnm 'wg") == "как получить эцп"

    def test_punctuation_keys_are_letters(self):
        assert text.from_layout(",fkf") == "бала"
        assert text.from_layout("[jxe") == "хочу"

    def test_layout_reading_offered_only_for_layout_keys(self):
        assert "эцп" in text.latin_readings("'wg")
        # "ä" is not on the English layout: only itself and the transliteration are offered.
        assert text.latin_readings("ä") == ["ä", "а"]


class TestTransliteration:
    def test_gives_cyrillic(self):
        result = text.transliterate("kak poluchit")
        assert result == "как получит"
        assert not text.is_latin(result)

    @pytest.mark.parametrize(
        ("latin", "cyrillic"),
        [
            ("spravka", "справка"),
            ("zhenshchina", "женщина"),
            ("shtraf", "штраф"),
            ("kakoy", "какой"),
            ("yuridicheskoe", "юридическое"),
        ],
    )
    def test_multi_letter_spellings(self, latin, cyrillic):
        assert text.transliterate(latin) == cyrillic

    def test_translit_shares_stem_with_russian(self):
        assert text.stem(text.transliterate("poluchit")) == text.stem("получить")


class TestTokens:
    def test_punctuation_and_emoji_dropped(self):
        assert text.tokens(text.clean("Привет!!! 😀 как, получить эцп? 123")) == ["привет", "как", "получить", "эцп", "123"]

    def test_no_words_in_emoji_or_punctuation(self):
        assert text.tokens(text.clean("😀🙏 ?!... — ***")) == []

    def test_is_latin(self):
        assert text.is_latin("ecp")
        assert not text.is_latin("эцп")
        assert not text.is_latin("eцп")  # mixed: has Cyrillic
        assert not text.is_latin("123")

    def test_has_kazakh_letters(self):
        assert text.has_kazakh_letters("ЭЦҚ алу".lower())
        assert not text.has_kazakh_letters("эцк калай алуга")


class TestStem:
    @pytest.mark.parametrize(
        ("kazakh", "typed"),
        [("қалай", "калай"), ("жәрдемақы", "жардемакы"), ("ұмыттым", "умыттым"), ("тіркелу", "тиркелу"),
         ("сәлем", "салем"), ("өтініш", "отиниш"), ("ғимарат", "гимарат"), ("мүлік", "мулик"), ("маңызды", "манызды")],
    )
    def test_kazakh_letters_fold_onto_russian_ones(self, kazakh, typed):
        assert text.stem(kazakh) == text.stem(typed)

    @pytest.mark.parametrize(
        ("one", "other"),
        [
            ("учёт", "учет"),         # ё/е
            ("ёж", "еж"),
            ("эцп", "ецп"),           # э/е
            ("район", "раион"),       # й/и
            ("получить", "получит"),  # ь dropped
            ("семья", "семя"),
            ("объявление", "обьявление"),  # ъ/ь
            ("объявление", "обявление"),
        ],
    )
    def test_loose_letters_fold(self, one, other):
        assert text.stem(one) == text.stem(other)

    @pytest.mark.parametrize(
        "forms",
        [
            ("справка", "справку", "справки", "справкой", "справке"),
            ("штраф", "штрафы", "штрафов", "штрафа"),
            ("пособие", "пособия", "пособий"),
            ("электронная", "электронной", "электронную"),
            ("несудимость", "несудимости"),
        ],
    )
    def test_inflected_forms_share_a_stem(self, forms):
        assert len({text.stem(form) for form in forms}) == 1, {form: text.stem(form) for form in forms}

    @pytest.mark.parametrize(
        "forms",
        [
            ("соттылық", "соттылығы"),  # final voiced consonant folded back
            ("анықтама", "анықтаманы", "анықтамасы"),
            ("зейнетақы", "зейнетақыны"),
            ("кіру", "кірсем", "кірсек"),  # the conditional: "if I enter", "if we enter"
            ("тіркелу", "тіркелсем", "тіркелсеңіз"),
        ],
    )
    def test_kazakh_inflected_forms_share_a_stem(self, forms):
        stems = {kazakh_stem(form) for form in forms}
        assert len(stems) == 1, {form: kazakh_stem(form) for form in forms}

    def test_different_words_keep_different_stems(self):
        assert text.stem("справка") != text.stem("штраф")
        assert text.stem("пенсия") != text.stem("пособие")

    def test_latin_words_are_not_stemmed_as_russian(self):
        assert text.stem("ncalayer") == "ncalayer"

    def test_stems_of_a_text(self):
        assert text.stems("Справку о несудимости!") == [text.stem("справка"), text.stem("о"), text.stem("несудимость")]


def test_russian_words_are_stemmed_by_the_compiled_snowball_stemmer():
    # PyStemmer is the C build of the same algorithm (identical stems on 49,281 words of the knowledge base
    # and the question sets): building the index stems every word once, ten times faster this way.
    import Stemmer

    assert isinstance(text._russian, Stemmer.Stemmer)
    assert [text.stem(w) for w in ("получение", "справки", "удостоверения")] == ["получ", "справк", "удостовер"]
