"""Knowledge access points: where citizens can use egov.kz free of charge with a librarian's help.

The points live in knowledge/access_points.yaml. This module loads and checks them (every problem with
its file and line, like the knowledge base: "knowledge/access_points.yaml:42: error: ..."), finds the
points nearest to a shared location, and finds a town by the name a citizen types, whatever the
alphabet, the case, the Kazakh letters or a typo.

Pure functions and data: no Telegram and no I/O at import time.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from bot import text as textnorm

# The knowledge loader's YAML helpers: both loaders read YAML and report problems the same way.
from bot.knowledge import ID_PATTERN, LANGUAGES, KnowledgeError, Problem, YamlChecker, bundled_knowledge_dir, line_of, read_yaml

ACCESS_POINTS_FILE = "access_points.yaml"
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius
# Kazakhstan's extent with a small margin: south, north, west, east (degrees).
KAZAKHSTAN_BOUNDS = (40.5, 55.5, 46.4, 87.4)
COORDINATE_KINDS = ("approximate", "exact")
TOWN_MATCH_CUTOFF = 80  # rapidfuzz ratio (0-100) a typed town name needs to count as that town
_MIN_TOKEN_LENGTH = 4  # words shorter than this are not matched alone inside a longer message

_KNOWN_FIELDS = frozenset({
    "id", "name", "town", "aliases", "region", "latitude", "longitude", "coordinates", "address",
    "phone", "hours", "website", "confirmed", "note",
})
_PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-]+$")
_WEBSITE_PATTERN = re.compile(r"^https?://[^\s/]+\.[^\s]+$")

# Words around a town name that are not the name: "г. Темиртау", "Балқаш қаласы", "library in Satpayev".
# Stored folded (Kazakh letters and ё/й folded), as the typed words are when compared.
_FILLER_WORDS = frozenset(textnorm.fold(word) for word in """
г гор город города городе п пос поселок посёлок пгт с село селе сельский аул ауыл ауылы ауылында
район района районе р н рн обл область области облысы облысында қ қала қаласы қаласында аудан ауданы
ауданында кент кенті в во на из около рядом возле где ближайшая ближайшие ближайший
библиотека библиотеки библиотеку библиотек цбс кітапхана кітапханасы кітапханалар қайда жақын
city town village district region in near library libraries where the of
""".split())


@dataclass(frozen=True)
class AccessPoint:
    """One library where citizens can get free internet and help with egov.kz.

    `confirmed` is False until someone has checked the entry with the library by phone; the bot then
    tells the citizen to check by phone too. `coordinates` is "approximate" when latitude/longitude
    are the town centre rather than the building.
    """

    id: str
    name: dict[str, str]
    town: dict[str, str]
    aliases: tuple[str, ...]
    region: dict[str, str]
    latitude: float
    longitude: float
    address: dict[str, str] | None
    phone: str | None
    hours: dict[str, str] | None
    website: str | None
    confirmed: bool
    note: dict[str, str] | None
    coordinates: str = "approximate"
    path: str = field(default="", compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)

    def town_names(self) -> tuple[str, ...]:
        """Every spelling of the town: the Russian and Kazakh names, then the aliases (no repeats)."""
        names: list[str] = []
        for name in (*self.town.values(), *self.aliases):
            if name not in names:
                names.append(name)
        return tuple(names)


@dataclass(frozen=True)
class Nearby:
    """An access point and how far it is, in kilometres along the Earth's surface."""

    point: AccessPoint
    distance_km: float


def bundled_access_points_path() -> Path:
    """knowledge/access_points.yaml beside the bot package."""
    return bundled_knowledge_dir() / ACCESS_POINTS_FILE


# --- loading ----------------------------------------------------------------------------------


def load_access_points(path: Path | str | None = None) -> list[AccessPoint]:
    """Load and check the access points file (the bundled one by default).

    Raises KnowledgeError listing every problem, each with the file and line.
    """
    path = Path(path) if path is not None else bundled_access_points_path()
    loader = YamlChecker(path.parent)
    shown = loader.shown(path)
    if not path.is_file():
        raise KnowledgeError([Problem(shown, 0, "the file is missing: it lists the library access points")])
    data = read_yaml(path, shown, loader.problems)
    if data is None and not loader.problems:
        loader.error(shown, 0, "the file is empty: list the access points (each starting with '- id:')")
    elif data is not None and not isinstance(data, list):
        loader.error(shown, line_of(data), "expected a list of access points (each starting with '- id:')")
    points: list[AccessPoint] = []
    if isinstance(data, list):
        first_line: dict[str, int] = {}
        for position, (item, item_line) in enumerate(zip(data, data.item_lines), start=1):
            point = _access_point(loader, shown, item, item_line, position)
            if point is None:
                continue
            if point.id in first_line:
                loader.error(shown, point.line, f"access point id {point.id} is used twice (also line {first_line[point.id]})")
                continue
            first_line[point.id] = point.line
            points.append(point)
    if any(problem.severity == "error" for problem in loader.problems):
        raise KnowledgeError(loader.problems)
    return points


def _access_point(loader: YamlChecker, path: str, item: Any, item_line: int, position: int) -> AccessPoint | None:
    """One entry of the file, or None after reporting why it cannot be used."""
    if not isinstance(item, dict):
        loader.error(path, item_line, f"access point #{position} is not a block of 'key: value' lines starting with '- id:'")
        return None
    line = line_of(item) or item_line
    point_id = item.get("id")
    if not isinstance(point_id, str) or not ID_PATTERN.match(point_id):
        loader.error(path, line_of(item, "id") if "id" in item else line,
                     f"access point #{position} needs an id in lower-case-with-dashes, like temirtau-cbs")
        return None
    owner = f"access point {point_id}"
    errors_before = _error_count(loader)
    for key in item:
        if key not in _KNOWN_FIELDS:
            loader.error(path, line_of(item, key), f"{owner}: unknown field '{key}' (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    name = loader.texts(item, "name", path, owner, what="name")
    town = loader.texts(item, "town", path, owner, what="town name")
    region = loader.texts(item, "region", path, owner, what="region name")
    aliases = _aliases(loader, path, item, owner)
    latitude = _degrees(loader, path, item, owner, "latitude", -90.0, 90.0)
    longitude = _degrees(loader, path, item, owner, "longitude", -180.0, 180.0)
    if latitude is not None and longitude is not None:
        south, north, west, east = KAZAKHSTAN_BOUNDS
        if not (south <= latitude <= north and west <= longitude <= east):
            loader.error(path, line_of(item, "latitude"),
                         f"{owner}: {latitude}, {longitude} is outside Kazakhstan (latitude {south}..{north}, "
                         f"longitude {west}..{east}); are latitude and longitude swapped?")
    coordinates = item.get("coordinates", "approximate")
    if coordinates not in COORDINATE_KINDS:
        loader.error(path, line_of(item, "coordinates"), f"{owner}: coordinates must be 'approximate' or 'exact', not '{coordinates}'")
    address = _optional_texts(loader, path, item, owner, "address")
    hours = _optional_texts(loader, path, item, owner, "hours", what="opening hours")
    note = _optional_texts(loader, path, item, owner, "note")
    phone = _optional_string(loader, path, item, owner, "phone")
    if phone is not None and (not _PHONE_PATTERN.match(phone) or sum(c.isdigit() for c in phone) < 6):
        loader.error(path, line_of(item, "phone"), f"{owner}: '{phone}' does not look like a phone number (digits, spaces, +, brackets, dashes)")
    website = _optional_string(loader, path, item, owner, "website")
    if website is not None and not _WEBSITE_PATTERN.match(website):
        loader.error(path, line_of(item, "website"), f"{owner}: website '{website}' must be a full address starting with https://")
    confirmed = item.get("confirmed")
    if not isinstance(confirmed, bool):
        loader.error(path, line_of(item, "confirmed") if "confirmed" in item else line,
                     f"{owner} needs confirmed: true or false (false until someone has checked it with the library by phone)")
    if _error_count(loader) > errors_before or latitude is None or longitude is None:
        return None
    return AccessPoint(
        id=point_id, name=name, town=town, aliases=aliases, region=region,
        latitude=latitude, longitude=longitude, address=address, phone=phone, hours=hours,
        website=website, confirmed=bool(confirmed), note=note, coordinates=str(coordinates),
        path=path, line=line,
    )


def _error_count(loader: YamlChecker) -> int:
    return sum(1 for problem in loader.problems if problem.severity == "error")


def _degrees(loader: YamlChecker, path: str, item: Any, owner: str, key: str, low: float, high: float) -> float | None:
    """A latitude or longitude in decimal degrees, or None after reporting the problem."""
    if key not in item:
        loader.error(path, line_of(item), f"{owner} has no {key} (decimal degrees, like {key}: {49.8 if key == 'latitude' else 73.1})")
        return None
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        loader.error(path, line_of(item, key), f"{owner}: {key} must be a number in decimal degrees, not '{value}'")
        return None
    if not low <= value <= high:
        loader.error(path, line_of(item, key), f"{owner}: {key} {value} is not between {low:g} and {high:g}")
        return None
    return float(value)


def _aliases(loader: YamlChecker, path: str, item: Any, owner: str) -> tuple[str, ...]:
    value = item.get("aliases")
    if value is None:
        return ()
    if not isinstance(value, list):
        loader.error(path, line_of(item, "aliases"), f"{owner}: aliases must be a list, like [Темиртау, Теміртау, Temirtau]")
        return ()
    result: list[str] = []
    lines = getattr(value, "item_lines", [line_of(item, "aliases")] * len(value))
    for alias, alias_line in zip(value, lines):
        if not isinstance(alias, (str, int, float)) or isinstance(alias, bool) or not str(alias).strip():
            loader.error(path, alias_line, f"{owner}: an empty or non-text alias")
            continue
        text = str(alias).strip()
        if text not in result:
            result.append(text)
    return tuple(result)


def _optional_texts(loader: YamlChecker, path: str, item: Any, owner: str, key: str, *, what: str | None = None) -> dict[str, str] | None:
    """An optional {ru, kk} block: absent is fine, half-filled is an error."""
    if item.get(key) is None:
        return None
    texts = loader.texts(item, key, path, owner, what=what or key)
    return texts if len(texts) == len(LANGUAGES) else None


def _optional_string(loader: YamlChecker, path: str, item: Any, owner: str, key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        loader.error(path, line_of(item, key), f"{owner}: {key} must be text (put it in quotes)")
        return None
    return value.strip()


# --- nearest ----------------------------------------------------------------------------------


def distance_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle (haversine) distance between two points in decimal degrees, in kilometres."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(longitude2 - longitude1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


NEAR_KM = 100  # farther than this an access point is no help: the citizen is pointed to ЦОН and 1414


def nearest(points: list[AccessPoint], latitude: float, longitude: float, limit: int = 3) -> list[Nearby]:
    """The `limit` points nearest to a location, nearest first.

    Points at the same distance (several libraries in one town share its centre) keep their order in
    the file, so the file decides which comes first. Raises ValueError for impossible coordinates.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError(f"not a location on Earth: latitude {latitude}, longitude {longitude}")
    if limit <= 0:
        return []
    found = [Nearby(point, distance_km(latitude, longitude, point.latitude, point.longitude)) for point in points]
    found.sort(key=lambda nearby: nearby.distance_km)  # stable: ties keep file order
    return found[:limit]


# --- towns by name ----------------------------------------------------------------------------


def _without_accents(text: str) -> str:
    """Text without accents: the Kazakh Latin alphabet of 2021 writes "Sátbaev", "Jezqazǵan", "Temirtaý",
    and people type them with or without the marks. Kazakh Cyrillic letters (ә, ғ, қ, ...) have no
    accents to lose; й and ё lose theirs, which the folding drops anyway."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def _words(text: str) -> list[str]:
    """Letters-only words of a text, accents dropped, Kazakh and loose letters folded, filler words dropped."""
    words = (textnorm.fold(word) for word in textnorm.tokens(textnorm.clean(_without_accents(text))))
    return [word for word in words if word not in _FILLER_WORDS]


def _cyrillic_readings(words: list[str]) -> list[list[str]]:
    """The typed words as Cyrillic, the first reading being the usual transliteration of Latin words.

    Further readings: "j" as ж, the way the Kazakh Latin alphabet writes it ("Qarajal", where the usual
    transliteration reads "ja" as я), and the English keyboard layout (Russian typed with the wrong
    layout), where every Latin word can be read so.
    """
    def latin_as(read: Callable[[str], str]) -> list[str]:
        return [textnorm.fold(read(word)) if textnorm.is_latin(word) else word for word in words]

    readings = [latin_as(textnorm.transliterate)]
    latin = [word for word in words if textnorm.is_latin(word)]
    if any("j" in word for word in latin):
        readings.append(latin_as(lambda word: textnorm.transliterate(word.replace("j", "zh"))))
    if latin and all(len(textnorm.latin_readings(word)) == 3 for word in latin):
        readings.append(latin_as(textnorm.from_layout))
    unique: list[list[str]] = []
    for reading in readings:
        if reading not in unique:
            unique.append(reading)
    return unique


def town_key(text: str) -> str:
    """The comparison key of a town name: Cyrillic, lower case, Kazakh letters folded, no spaces or
    hyphens ("Ақсу-Аюлы", "Aksu-Ayuly" and "аксу аюлы" all give "аксуаюлы")."""
    readings = _cyrillic_readings(_words(text))
    return "".join(readings[0]) if readings else ""


def _query_keys(text: str) -> list[str]:
    """Keys to try for a typed message: the whole message, then each longer word on its own."""
    keys: list[str] = []
    for reading in _cyrillic_readings(_words(text)):
        candidates = ["".join(reading)]
        if len(reading) > 1:
            candidates += [word for word in reading if len(word) >= _MIN_TOKEN_LENGTH]
        for key in candidates:
            if key and key not in keys:
                keys.append(key)
    return keys


def find_town(points: list[AccessPoint], text: str, limit: int = 3) -> list[AccessPoint]:
    """The access points of the town a citizen typed, best match first, at most `limit`.

    An exact spelling (any alias, in any alphabet, with or without Kazakh letters, any case) wins and
    returns that town's points in file order. Otherwise the closest spellings within a few typos
    count (rapidfuzz ratio >= TOWN_MATCH_CUTOFF). A name that matches no town gives an empty list.
    """
    if limit <= 0:
        return []
    queries = _query_keys(text)
    if not queries:
        return []
    keys: list[str] = []
    owners: list[int] = []
    for index, point in enumerate(points):
        for name in point.town_names():
            key = town_key(name)
            if key:
                keys.append(key)
                owners.append(index)
    exact = sorted({owners[i] for i, key in enumerate(keys) if key in queries})
    if exact:
        return [points[i] for i in exact][:limit]
    best: dict[int, float] = {}
    for query in queries:
        for _choice, score, key_index in process.extract(query, keys, scorer=fuzz.ratio,
                                                          score_cutoff=TOWN_MATCH_CUTOFF, limit=None):
            owner = owners[key_index]
            best[owner] = max(best.get(owner, 0.0), score)
    ranked = sorted(best, key=lambda i: (-best[i], i))
    return [points[i] for i in ranked][:limit]
