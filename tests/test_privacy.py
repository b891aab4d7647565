"""bot.privacy: personal data is masked before a citizen's text is logged or shown to librarians."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy import contains_sensitive, is_valid_iin, luhn_valid, mask

IIN = "[ИИН]"
PHONE = "[телефон]"
EMAIL = "[e-mail]"
DOC = "[документ]"


def card(last4: str) -> str:
    return f"[карта •••• {last4}]"


# Valid ИИН (check digit computed with the official algorithm); the last one needs the second weights.
VALID_IIN = "900101300126"
VALID_IIN_2 = "850503400562"
VALID_IIN_SECOND_WEIGHTS = "900000001802"
# Luhn-valid card numbers.
VISA = "4400430123456789"
MASTERCARD = "5400612345678905"
AMEX = "378282246310005"
CARD_19 = "2200001234567890122"

# (text, masked text) - positives and negatives, Russian and Kazakh.
CASES = [
    # --- ИИН / БИН -------------------------------------------------------------------------------
    (f"ИИН {VALID_IIN}", f"ИИН {IIN}"),
    ("Мой ИИН 900101 300126, помогите", f"Мой ИИН {IIN}, помогите"),
    ("иин: 9001-0130-0126", f"иин: {IIN}"),
    ("ЖСН 900 101 300 126 қалай тексеремін?", f"ЖСН {IIN} қалай тексеремін?"),
    ("ИИН900101300126", f"ИИН{IIN}"),  # glued to the word
    ("опечатка в ИИН 900101300123", f"опечатка в ИИН {IIN}"),  # invalid check digit: still masked
    ("БИН ТОО 040207600011.", f"БИН ТОО {IIN}."),
    ("Менің ЖСН-ім 850503400562 еді", f"Менің ЖСН-ім {IIN} еді"),
    # --- phones ----------------------------------------------------------------------------------
    ("звоните +7 701 123 45 67", f"звоните {PHONE}"),
    ("тел 8 701 123-45-67", f"тел {PHONE}"),
    ("87011234567", PHONE),
    ("+77011234567!", f"{PHONE}!"),
    ("(701) 123-45-67", PHONE),
    ("+7 (701) 123-45-67", PHONE),
    ("8(7172)12-34-56 — мой домашний", f"{PHONE} — мой домашний"),
    ("7 701 123 45 67", PHONE),
    ("Маған 8 747 555 12 34 нөміріне хабарласыңыз", f"Маған {PHONE} нөміріне хабарласыңыз"),
    ("UK: +44 20 7946 0958", f"UK: {PHONE}"),
    ("Москва +7 916 123-45-67", f"Москва {PHONE}"),
    ("tel.87011234567,87021234567", f"tel.{PHONE},{PHONE}"),
    # --- cards -----------------------------------------------------------------------------------
    (f"карта {VISA}", f"карта {card('6789')}"),
    ("карта 4400 4301 2345 6789 списали дважды", f"карта {card('6789')} списали дважды"),
    ("5400-6123-4567-8905", card("8905")),
    ("Amex 3782 822463 10005", f"Amex {card('0005')}"),
    (f"Kaspi Gold {CARD_19}", f"Kaspi Gold {card('0122')}"),
    # --- e-mail ----------------------------------------------------------------------------------
    ("пишите на aigerim.n-90@mail.kz пожалуйста", f"пишите на {EMAIL} пожалуйста"),
    ("Почта: Ivan.Petrov+egov@gmail.com.", f"Почта: {EMAIL}."),
    ("<a href=\"mailto:test@egov.kz\">", f"<a href=\"mailto:{EMAIL}\">"),
    ("поштам: әсел@пошта.қаз", f"поштам: {EMAIL}"),
    # --- documents -------------------------------------------------------------------------------
    ("номер удостоверения 045123456", f"номер удостоверения {DOC}"),
    ("уд. личности № 045123456 выдано МВД", f"уд. личности № {DOC} выдано МВД"),
    ("паспорт N12345678", f"паспорт {DOC}"),
    ("номер документа: 045123456", f"номер документа: {DOC}"),
    ("Жеке куәлік нөмірім 045123456", f"Жеке куәлік нөмірім {DOC}"),
    ("төлқұжат N 12345678", f"төлқұжат {DOC}"),
    ("ID 045123456", f"ID {DOC}"),
    ("паспорт N12345678, удостоверение 045123456", f"паспорт {DOC}, удостоверение {DOC}"),
    ("паспорта: N12345678 и N87654321", f"паспорта: {DOC} и {DOC}"),
    ("045123456 — номер удостоверения", f"{DOC} — номер удостоверения"),
    # --- several kinds in one text ---------------------------------------------------------------
    (
        f"ИИН {VALID_IIN}, тел. +7 701 123 45 67, почта a@b.kz, карта {VISA}",
        f"ИИН {IIN}, тел. {PHONE}, почта {EMAIL}, карта {card('6789')}",
    ),
    (f"{VALID_IIN} 87011234567", f"{IIN} {PHONE}"),
    ("8 701 123 45 67 8 702 765 43 21", f"{PHONE} {PHONE}"),
    (
        "удостоверение 045123456, ИИН 900101300126",
        f"удостоверение {DOC}, ИИН {IIN}",
    ),
    # --- negatives: left exactly as typed --------------------------------------------------------
    ("Позвоните в call-центр 1414 или 103, 112", None),
    ("В 2026 году пособие 3 450 ₸, пошлина 4 325 тенге", None),
    ("штраф 10 МРП = 43 250 ₸; 1 000 000 тенге; 87 011 234 567 тг", None),
    ("приём 01.12.2026 в 12:30, окно 09:00–18:00", None),
    ("заявка #12 и #1234567890", None),
    ("справка № 10100123456 от 2026-01-15", None),  # 11 digits starting 1: not a phone
    ("просто число 045123456", None),  # 9 digits without a hint word
    ("N12345678 без подсказки", None),
    ("контакт-центр 8 800 080 7777", None),  # toll-free, not a person's phone
    ("карта 4400 4301 2345 6780 (опечатка)", None),  # Luhn-invalid card
    ("1234567890123456", None),  # 16 digits, Luhn-invalid
    ("ЭЦП на 1 год, 2 ключа, RSA 2048, ГОСТ 34.310-2004", None),
    ("версия 3.14159265358979", None),
    ("<b>Как получить ЭЦП?</b> 😀 Қалай алуға болады?", None),
    ("ИИН и БИН — что это? email, e-mail, @egov_bot", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[f"{i:02}" for i in range(len(CASES))])
def test_mask(text: str, expected: str | None) -> None:
    assert mask(text) == (text if expected is None else expected)


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[f"{i:02}" for i in range(len(CASES))])
def test_mask_is_idempotent(text: str, expected: str | None) -> None:
    once = mask(text)
    assert mask(once) == once


def test_the_table_is_big_and_balanced() -> None:
    negatives = sum(1 for _, expected in CASES if expected is None)
    assert len(CASES) >= 40
    assert negatives >= 10 and len(CASES) - negatives >= 30


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        (f"ИИН {VALID_IIN}", {"iin"}),
        ("+7 701 123 45 67", {"phone"}),
        (f"карта {VISA}", {"card"}),
        ("a.b@mail.ru", {"email"}),
        ("паспорт N12345678", {"document"}),
        (
            f"ИИН {VALID_IIN}, +77011234567, {MASTERCARD}, x@y.kz, удостоверение 045123456",
            {"iin", "phone", "card", "email", "document"},
        ),
        ("как получить справку? 1414, 3 450 ₸, 01.12.2026", set()),
        ("", set()),
    ],
)
def test_contains_sensitive(text: str, kinds: set[str]) -> None:
    assert contains_sensitive(text) == kinds


def test_contains_sensitive_is_empty_on_masked_text() -> None:
    text = f"ИИН {VALID_IIN}, тел 87011234567, карта {VISA}, почта a@b.kz, паспорт N12345678"
    assert contains_sensitive(mask(text)) == set()


class TestOrder:
    def test_twelve_digits_are_an_iin_not_a_phone(self) -> None:
        assert mask("870112345678") == IIN
        assert contains_sensitive("870112345678") == {"iin"}

    def test_sixteen_digits_are_a_card_not_a_phone(self) -> None:
        assert contains_sensitive(VISA) == {"card"}

    def test_plus_makes_a_phone(self) -> None:
        assert mask("+870112345678") == PHONE

    def test_digits_inside_an_email_belong_to_the_email(self) -> None:
        assert mask(f"{VALID_IIN}@mail.kz") == EMAIL
        assert contains_sensitive(f"{VALID_IIN}@mail.kz") == {"email"}

    def test_card_keeps_only_its_last_four_digits(self) -> None:
        masked = mask(f"карта {VISA}")
        assert "4400" not in masked and "6789" in masked

    def test_a_placeholder_is_not_a_hint_word(self) -> None:
        assert mask("документ 045123456 и ещё 123456789") == f"документ {DOC} и ещё 123456789"
        assert mask(f"{DOC} и ещё 123456789") == f"{DOC} и ещё 123456789"


class TestIin:
    @pytest.mark.parametrize("iin", [VALID_IIN, VALID_IIN_2, VALID_IIN_SECOND_WEIGHTS, "040207600011"])
    def test_valid(self, iin: str) -> None:
        assert is_valid_iin(iin)

    def test_grouped(self) -> None:
        assert is_valid_iin("900101 300126")
        assert is_valid_iin("9001-0130-0126")

    @pytest.mark.parametrize(
        "value",
        [
            "900101300123",  # wrong check digit
            "900000001840",  # both weighted sums give 10: never valid
            "90010130012",  # 11 digits
            "9001013001260",  # 13 digits
            "90010130012a",
            "",
            "٩٠٠١٠١٣٠٠١٢٦",  # Arabic-Indic digits are not typed in Kazakhstan
        ],
    )
    def test_invalid(self, value: str) -> None:
        assert not is_valid_iin(value)

    def test_second_weights_need_a_second_sum(self) -> None:
        for last in "0123456789":
            assert is_valid_iin("9000000018" + "0" + last) == (last == "2")
            assert not is_valid_iin("90000000184" + last)


class TestLuhn:
    @pytest.mark.parametrize("number", [VISA, MASTERCARD, AMEX, CARD_19, "4111 1111 1111 1111", "4222222222222"])
    def test_valid(self, number: str) -> None:
        assert luhn_valid(number)

    @pytest.mark.parametrize("number", ["4400430123456780", "1234567890123456", "", "4111x1111", "  "])
    def test_invalid(self, number: str) -> None:
        assert not luhn_valid(number)

    def test_thirteen_digit_card_is_masked(self) -> None:
        assert mask("4222222222222") == card("2222")


class TestUnchanged:
    def test_long_text_without_personal_data(self) -> None:
        text = (
            "Сәлеметсіз бе! Как получить справку о несудимости через egov.kz?\n"
            "Госпошлина 0,5 МРП (2 163 ₸), срок — 1 рабочий день; звоните 1414.\n"
            "<i>Ответ:</i> https://egov.kz/cms/ru/services/pass_onlineecp 👍 #42"
        )
        assert mask(text) == text
        assert contains_sensitive(text) == set()

    def test_returns_the_same_characters(self) -> None:
        text = "Қазақстан\u00a0Республикасы\u200b — 2026 ж. «Электрондық үкімет» \U0001f1f0\U0001f1ff"
        assert mask(text).encode() == text.encode()


# --- properties ---------------------------------------------------------------------------------

# Text that cannot hold personal data: no digits of any script, no "@".
digit_free = st.text(alphabet=st.characters(exclude_categories=("Nd", "Cs"), exclude_characters="@"))

# Text built from the pieces personal data is made of, so that near misses come up often.
pieces = st.sampled_from(
    [
        "0", "1", "7", "8", "9", "12", "123", "45", "4400", "701", "(701)", "+", "+7", "-", " ", "  ", "\u00a0",
        ".", ",", ":", "#", "@", "a", "N", "[", "]", "\n", "mail.kz", "ИИН", "паспорт", "удостоверение",
        "ID", "куәлік", "документ", "и", VALID_IIN, VISA, "87011234567", "045123456", "N12345678",
        "[документ]", "[ИИН]", card("1234"), "a@b.kz", "0@mail.kz", "kz", "-", "_", "%", "(", ")", "–", "Н",
        "уд", "id",
    ]
)
number_like = st.lists(pieces, max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_mask_never_raises(text: str) -> None:
    assert isinstance(mask(text), str)
    assert contains_sensitive(text) <= {"iin", "phone", "card", "email", "document"}


@settings(max_examples=200, deadline=None)
@given(digit_free)
def test_digit_free_text_is_unchanged(text: str) -> None:
    assert mask(text) == text
    assert contains_sensitive(text) == set()


@settings(max_examples=200, deadline=None)
@given(number_like)
def test_mask_is_idempotent_on_near_misses(text: str) -> None:
    once = mask(text)
    assert mask(once) == once


@settings(max_examples=200, deadline=None)
@given(number_like)
def test_masked_text_reports_nothing_sensitive(text: str) -> None:
    once = mask(text)
    assert contains_sensitive(once) == set()
