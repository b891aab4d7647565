"""bot.places: the bundled library access points, nearest points, town names as people type them, and
problems in the file reported with file:line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot import places
from bot.knowledge import KnowledgeError, Problem
from bot.places import AccessPoint, Nearby, find_town, load_access_points, nearest

# Kazakhstan's extent (degrees), written out here rather than taken from the module under test.
KZ_SOUTH, KZ_NORTH, KZ_WEST, KZ_EAST = 40.5, 55.5, 46.4, 87.4

KARAGANDA_CENTRE = (49.80, 73.10)
TEMIRTAU_CENTRE = (50.055, 72.965)
ULYTAU_TOWNS = ("satpayev-cbs", "zhezkazgan-cbs", "karazhal-cbs", "zhanaarka-cbs")


@pytest.fixture(scope="module")
def points() -> list[AccessPoint]:
    return load_access_points()


def by_id(points: list[AccessPoint], point_id: str) -> AccessPoint:
    return next(p for p in points if p.id == point_id)


def ids(found: list[AccessPoint]) -> list[str]:
    return [p.id for p in found]


# --- the bundled file -------------------------------------------------------------------------


class TestBundledFile:
    def test_loads(self, points: list[AccessPoint]):
        assert len(points) >= 18
        assert places.bundled_access_points_path().is_file()

    def test_ids_are_unique(self, points: list[AccessPoint]):
        assert len({p.id for p in points}) == len(points)

    def test_every_point_has_russian_and_kazakh_names(self, points: list[AccessPoint]):
        for point in points:
            for block in (point.name, point.town, point.region):
                assert set(block) == {"ru", "kk"}, point.id
                assert all(text.strip() for text in block.values()), point.id

    def test_every_point_is_inside_kazakhstan(self, points: list[AccessPoint]):
        for point in points:
            assert KZ_SOUTH <= point.latitude <= KZ_NORTH, point.id
            assert KZ_WEST <= point.longitude <= KZ_EAST, point.id

    def test_no_point_is_confirmed_until_checked_with_the_library(self, points: list[AccessPoint]):
        # The header rule of access_points.yaml: confirmed only after a call that checked the address, phone,
        # hours and help with egov.kz. Nobody has done that yet, the Gogol library included (reference, section 17).
        gogol = by_id(points, "karaganda-gogol-library")
        assert gogol.confirmed is False
        assert "Гоголя" in gogol.name["ru"] and "Гоголь" in gogol.name["kk"]
        assert gogol.note is not None and "Ерубаева, 44" in gogol.note["ru"] and "karlib.kz" in gogol.note["ru"]
        assert gogol.website == "https://karlib.kz"
        assert [p.id for p in points if p.confirmed] == []

    def test_unconfirmed_points_carry_no_unchecked_contacts(self, points: list[AccessPoint]):
        # Nobody has checked a phone number, an address or hours for these yet: they must stay empty.
        for point in points:
            if not point.confirmed:
                assert point.phone is None and point.address is None and point.hours is None, point.id

    def test_coordinates_are_marked_approximate(self, points: list[AccessPoint]):
        assert {p.coordinates for p in points} == {"approximate"}

    @pytest.mark.parametrize("point_id", ULYTAU_TOWNS)
    def test_ulytau_towns_say_so(self, points: list[AccessPoint], point_id: str):
        point = by_id(points, point_id)
        assert point.region["ru"] == "Улытауская область"
        assert point.note is not None and "2022" in point.note["ru"] and "2022" in point.note["kk"]


# --- nearest ----------------------------------------------------------------------------------


class TestNearest:
    def test_karaganda_centre_gives_the_gogol_library_first(self, points: list[AccessPoint]):
        found = nearest(points, *KARAGANDA_CENTRE)
        assert found[0].point.id == "karaganda-gogol-library"
        assert found[0].distance_km < 1

    def test_temirtau_gives_temirtau_first(self, points: list[AccessPoint]):
        found = nearest(points, *TEMIRTAU_CENTRE)
        assert found[0].point.id == "temirtau-cbs"

    def test_sorted_and_limited(self, points: list[AccessPoint]):
        found = nearest(points, 47.0, 70.0, limit=5)
        assert len(found) == 5
        distances = [n.distance_km for n in found]
        assert distances == sorted(distances)
        assert all(isinstance(n, Nearby) for n in found)

    def test_zero_limit_and_empty_list(self, points: list[AccessPoint]):
        assert nearest(points, *KARAGANDA_CENTRE, limit=0) == []
        assert nearest([], *KARAGANDA_CENTRE) == []

    def test_balkhash_is_nearest_on_the_lake_shore(self, points: list[AccessPoint]):
        assert nearest(points, 46.85, 75.0, limit=1)[0].point.id == "balkhash-cbs"

    def test_haversine_distance(self):
        # One degree of latitude is about 111.2 km; Karaganda-Temirtau is about 30 km.
        assert places.distance_km(49.0, 73.0, 50.0, 73.0) == pytest.approx(111.2, abs=0.2)
        assert 25 < places.distance_km(*KARAGANDA_CENTRE, *TEMIRTAU_CENTRE) < 35
        assert places.distance_km(50.0, 70.0, 50.0, 70.0) == 0

    def test_impossible_location_is_refused(self, points: list[AccessPoint]):
        with pytest.raises(ValueError):
            nearest(points, 95.0, 73.0)
        with pytest.raises(ValueError):
            nearest(points, math.nan, 73.0)


# --- towns by name ----------------------------------------------------------------------------


class TestFindTown:
    @pytest.mark.parametrize(
        ("typed", "point_id"),
        [
            ("теміртау", "temirtau-cbs"),
            ("temirtau", "temirtau-cbs"),
            ("темиртау", "temirtau-cbs"),
            ("ТЕМИРТАУ", "temirtau-cbs"),
            ("Балхаш", "balkhash-cbs"),
            ("балқаш", "balkhash-cbs"),
            ("Balkhash", "balkhash-cbs"),
            ("сатпаев", "satpayev-cbs"),
            ("Сәтбаев", "satpayev-cbs"),
            ("Satpayev", "satpayev-cbs"),
            ("Жезқазған", "zhezkazgan-cbs"),
            ("zhezkazgan", "zhezkazgan-cbs"),
            ("Қарқаралы", "karkaraly-cbs"),
            ("Каркаралинск", "karkaraly-cbs"),
            ("Aksu-Ayuly", "shet-cbs"),
            ("аксу аюлы", "shet-cbs"),
            ("Киевка", "nura-cbs"),
            ("Нура", "nura-cbs"),
            ("Сарань", "saran-cbs"),
            ("Приозерск", "priozersk-cbs"),
            # the Kazakh Latin alphabet, with and without its accents
            ("Sátbaev", "satpayev-cbs"),
            ("Jezqazǵan", "zhezkazgan-cbs"),
            ("Qaraǵandy", "karaganda-gogol-library"),
            ("Qarajal", "karazhal-cbs"),
            ("Temirtaý", "temirtau-cbs"),
            ("Balqash", "balkhash-cbs"),
        ],
    )
    def test_spellings(self, points: list[AccessPoint], typed: str, point_id: str):
        assert find_town(points, typed)[0].id == point_id

    @pytest.mark.parametrize(
        ("typed", "point_id"),
        [
            ("темертау", "temirtau-cbs"),  # a typo
            ("балхаше", "balkhash-cbs"),  # a Russian case ending
            ("Теміртауда", "temirtau-cbs"),  # a Kazakh case ending
            ("жезказгон", "zhezkazgan-cbs"),
            ("ntvbhnfe", "temirtau-cbs"),  # "темиртау" typed in the English keyboard layout
        ],
    )
    def test_typos_and_endings(self, points: list[AccessPoint], typed: str, point_id: str):
        assert find_town(points, typed)[0].id == point_id

    @pytest.mark.parametrize("typed", ["г. Темиртау", "город Темиртау", "Теміртау қаласы", "библиотека в Темиртау"])
    def test_words_around_the_name(self, points: list[AccessPoint], typed: str):
        assert ids(find_town(points, typed))[:1] == ["temirtau-cbs"]

    def test_a_town_with_two_libraries_gives_both_in_file_order(self, points: list[AccessPoint]):
        assert ids(find_town(points, "Қарағанды")) == ["karaganda-gogol-library", "karaganda-city-libraries"]
        assert ids(find_town(points, "karaganda", limit=1)) == ["karaganda-gogol-library"]

    @pytest.mark.parametrize("typed", ["москва", "Moscow", "Алматы", "", "   ", "!!!", "123"])
    def test_unknown_towns_give_nothing(self, points: list[AccessPoint], typed: str):
        assert find_town(points, typed) == []

    def test_zero_limit(self, points: list[AccessPoint]):
        assert find_town(points, "темиртау", limit=0) == []


# --- problems with file and line --------------------------------------------------------------

VALID = """\
# two access points
- id: town-one
  name: {ru: "Библиотека один", kk: "Бірінші кітапхана"}
  town: {ru: Темиртау, kk: Теміртау}
  aliases: [Temirtau]
  region: {ru: Карагандинская область, kk: Қарағанды облысы}
  latitude: 50.05
  longitude: 72.96
  coordinates: approximate
  confirmed: false

- id: town-two
  name: {ru: "Библиотека два", kk: "Екінші кітапхана"}
  town: {ru: Балхаш, kk: Балқаш}
  region: {ru: Карагандинская область, kk: Қарағанды облысы}
  latitude: 46.85
  longitude: 75.0
  phone: "+7 700 000 00 00"
  website: https://example.kz
  confirmed: true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "knowledge" / "access_points.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as raised:
        load_access_points(path)
    problems = [p for p in raised.value.problems if p.severity == "error"]
    assert problems, "KnowledgeError without errors"
    return problems


class TestProblems:
    def test_the_valid_sample_loads(self, tmp_path: Path):
        loaded = load_access_points(write(tmp_path, VALID))
        assert ids(loaded) == ["town-one", "town-two"]
        assert loaded[0].coordinates == "approximate" and loaded[0].phone is None
        assert loaded[1].phone == "+7 700 000 00 00" and loaded[1].confirmed is True

    def test_missing_latitude_names_file_and_line(self, tmp_path: Path):
        text = VALID.replace("  latitude: 46.85\n", "")
        problems = problems_of(write(tmp_path, text))
        assert len(problems) == 1
        problem = problems[0]
        assert problem.path == "knowledge/access_points.yaml"
        assert problem.line == line_of(text, "- id: town-two")
        assert "town-two" in problem.message and "latitude" in problem.message
        assert str(problem).startswith(f"knowledge/access_points.yaml:{problem.line}: error:")

    def test_bad_yaml_names_file_and_line(self, tmp_path: Path):
        text = VALID.replace("  latitude: 46.85", "  latitude: [46.85")
        problems = problems_of(write(tmp_path, text))
        problem = problems[0]
        assert problem.path == "knowledge/access_points.yaml"
        assert "not valid YAML" in problem.message
        assert line_of(text, "latitude: [46.85") <= problem.line <= line_of(text, "confirmed: true")

    def test_bad_indentation_names_file_and_line(self, tmp_path: Path):
        text = VALID.replace("  longitude: 72.96", "    longitude: 72.96")
        problem = problems_of(write(tmp_path, text))[0]
        assert "not valid YAML" in problem.message
        assert problem.line == line_of(text, "    longitude: 72.96")

    @pytest.mark.parametrize(
        ("old", "new", "needle", "words"),
        [
            ("  latitude: 50.05", "  latitude: north", "latitude: north", "number"),
            ("  latitude: 50.05", "  latitude: 95.0", "latitude: 95.0", "between"),
            ("  latitude: 50.05\n  longitude: 72.96", "  latitude: 72.96\n  longitude: 50.05", "latitude: 72.96", "swapped"),
            ("  confirmed: false", "  confirmed: \"no\"", "confirmed: \"no\"", "confirmed"),
            ("  coordinates: approximate", "  coordinates: roughly", "coordinates: roughly", "approximate"),
            ("  aliases: [Temirtau]", "  alias: [Temirtau]", "alias: [Temirtau]", "unknown field"),
            ("  phone: \"+7 700 000 00 00\"", "  phone: \"call the akimat\"", "phone:", "phone number"),
            ("  website: https://example.kz", "  website: karlib", "website:", "https://"),
            ("kk: \"Бірінші кітапхана\"", "kz: \"Бірінші кітапхана\"", "kz: \"Бірінші", "Kazakh name"),
        ],
    )
    def test_field_problems_name_their_line(self, tmp_path: Path, old: str, new: str, needle: str, words: str):
        assert old in VALID
        text = VALID.replace(old, new, 1)
        problems = problems_of(write(tmp_path, text))
        assert any(p.line == line_of(text, needle) and words in p.message for p in problems), [str(p) for p in problems]

    def test_duplicate_id(self, tmp_path: Path):
        text = VALID.replace("- id: town-two", "- id: town-one")
        problem = problems_of(write(tmp_path, text))[0]
        assert problem.line == line_of(text, "- id: town-one") + 10
        assert "twice" in problem.message and f"line {line_of(text, '- id: town-one')}" in problem.message

    def test_bad_id(self, tmp_path: Path):
        text = VALID.replace("- id: town-two", "- id: Town Two")
        problem = problems_of(write(tmp_path, text))[0]
        assert problem.line == line_of(text, "- id: Town Two") and "lower-case" in problem.message

    def test_not_a_list(self, tmp_path: Path):
        problem = problems_of(write(tmp_path, "id: town-one\nlatitude: 50\n"))[0]
        assert problem.line == 1 and "list" in problem.message

    def test_empty_file(self, tmp_path: Path):
        problem = problems_of(write(tmp_path, "# nothing yet\n"))[0]
        assert "empty" in problem.message

    def test_missing_file(self, tmp_path: Path):
        with pytest.raises(KnowledgeError) as raised:
            load_access_points(tmp_path / "nowhere.yaml")
        assert "missing" in str(raised.value)

    def test_every_problem_is_listed_at_once(self, tmp_path: Path):
        text = VALID.replace("  latitude: 50.05\n", "").replace("  confirmed: true", "  confirmed: maybe")
        problems = problems_of(write(tmp_path, text))
        assert {p.line for p in problems} == {line_of(text, "- id: town-one"), line_of(text, "confirmed: maybe")}
