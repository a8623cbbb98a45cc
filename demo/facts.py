"""The few small tables the demo models can draw from when asked for a table or a list: fruits, planets, countries
and capitals, colours, programming languages, months. Everything else they answer from the prompt itself."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str  # plural, as a heading says it: "fruits"
    words: tuple[str, ...]  # what a prompt may call it (singular and plural)
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


TOPICS = (
    Topic("fruits", ("fruit", "fruits"), ("Fruit", "Colour", "Best season"), (
        ("Apple", "red or green", "autumn"), ("Banana", "yellow", "all year"), ("Cherry", "dark red", "summer"),
        ("Mango", "orange", "spring to summer"), ("Pear", "green", "autumn"), ("Grape", "green or purple", "autumn"),
        ("Strawberry", "red", "early summer"), ("Lemon", "yellow", "winter"), ("Kiwi", "brown outside, green inside",
                                                                            "winter"),
        ("Blueberry", "blue", "summer"))),
    Topic("planets", ("planet", "planets"), ("Planet", "Order from the Sun", "Type"), (
        ("Mercury", "1", "rocky"), ("Venus", "2", "rocky"), ("Earth", "3", "rocky"), ("Mars", "4", "rocky"),
        ("Jupiter", "5", "gas giant"), ("Saturn", "6", "gas giant"), ("Uranus", "7", "ice giant"),
        ("Neptune", "8", "ice giant"))),
    Topic("countries", ("country", "countries", "capital", "capitals"), ("Country", "Capital", "Continent"), (
        ("France", "Paris", "Europe"), ("Japan", "Tokyo", "Asia"), ("Brazil", "Brasília", "South America"),
        ("Kenya", "Nairobi", "Africa"), ("Canada", "Ottawa", "North America"), ("Australia", "Canberra", "Oceania"),
        ("Germany", "Berlin", "Europe"), ("India", "New Delhi", "Asia"), ("Egypt", "Cairo", "Africa"),
        ("Mexico", "Mexico City", "North America"), ("Italy", "Rome", "Europe"), ("Spain", "Madrid", "Europe"))),
    Topic("colours", ("colour", "colours", "color", "colors"), ("Colour", "Hex", "RGB"), (
        ("black", "#000000", "0, 0, 0"), ("white", "#FFFFFF", "255, 255, 255"), ("grey", "#808080", "128, 128, 128"),
        ("silver", "#C0C0C0", "192, 192, 192"), ("red", "#FF0000", "255, 0, 0"), ("maroon", "#800000", "128, 0, 0"),
        ("orange", "#FFA500", "255, 165, 0"), ("yellow", "#FFFF00", "255, 255, 0"),
        ("olive", "#808000", "128, 128, 0"), ("green", "#00FF00", "0, 255, 0"),
        ("dark green", "#006400", "0, 100, 0"), ("teal", "#008080", "0, 128, 128"), ("cyan", "#00FFFF", "0, 255, 255"),
        ("blue", "#0000FF", "0, 0, 255"), ("navy", "#000080", "0, 0, 128"), ("purple", "#800080", "128, 0, 128"),
        ("magenta", "#FF00FF", "255, 0, 255"), ("pink", "#FFC0CB", "255, 192, 203"),
        ("brown", "#8B4513", "139, 69, 19"), ("beige", "#F5F5DC", "245, 245, 220"))),
    Topic("programming languages", ("language", "languages", "programming language", "programming languages"),
          ("Language", "First released", "Created by"), (
              ("Python", "1991", "Guido van Rossum"), ("JavaScript", "1995", "Brendan Eich"),
              ("C", "1972", "Dennis Ritchie"), ("Java", "1995", "James Gosling"), ("SQL", "1974",
                                                                                 "Donald Chamberlin and Raymond Boyce"),
              ("Go", "2009", "Robert Griesemer, Rob Pike and Ken Thompson"), ("Rust", "2015", "Graydon Hoare"),
              ("Ruby", "1995", "Yukihiro Matsumoto"))),
    Topic("months", ("month", "months"), ("Month", "Days", "Season (northern hemisphere)"), (
        ("January", "31", "winter"), ("February", "28 (29 in leap years)", "winter"), ("March", "31", "spring"),
        ("April", "30", "spring"), ("May", "31", "spring"), ("June", "30", "summer"), ("July", "31", "summer"),
        ("August", "31", "summer"), ("September", "30", "autumn"), ("October", "31", "autumn"),
        ("November", "30", "autumn"), ("December", "31", "winter"))),
)

COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "a couple of": 2, "a few": 3, "several": 4}


def find_topic(text: str) -> Topic | None:
    """The topic a prompt names ("a table of three fruits"), or None. The longest matching word wins."""
    lowered = text.lower()
    best: tuple[int, Topic] | None = None
    for topic in TOPICS:
        for word in topic.words:
            if re.search(rf"\b{re.escape(word)}\b", lowered) and (best is None or len(word) > best[0]):
                best = (len(word), topic)
    return best[1] if best else None


def find_count(text: str, topic: Topic | None = None) -> int | None:
    """How many rows or items the prompt asks for: "three fruits", "5 planets", "a few colours" (None if it does
    not say). With a topic, only a count just before the topic's word counts."""
    lowered = text.lower()
    words = "|".join(re.escape(word) for word in sorted(COUNTS, key=len, reverse=True))
    after = rf"\s+(?:\w+\s+){{0,2}}(?:{'|'.join(re.escape(w) for w in topic.words)})\b" if topic else r"\s+\w+"
    match = re.search(rf"\b(\d{{1,3}}|{words})\b{after}", lowered)
    if not match:
        return None
    found = match.group(1)
    return int(found) if found.isdigit() else COUNTS[found]


def capital_of(text: str) -> tuple[str, str] | None:
    """(country, capital) when the prompt asks for a capital the countries table knows: "capital of Japan"."""
    countries = next(topic for topic in TOPICS if topic.name == "countries")
    lowered = text.lower()
    if "capital" not in lowered:
        return None
    for country, capital, _ in countries.rows:
        if re.search(rf"\b{re.escape(country.lower())}\b", lowered):
            return country, capital
    return None


def colour_names() -> list[tuple[str, tuple[int, int, int]]]:
    """The named colours with their RGB values, for naming the colours of an image."""
    colours = next(topic for topic in TOPICS if topic.name == "colours")
    named = []
    for name, _, rgb in colours.rows:
        red, green, blue = (int(part) for part in rgb.split(", "))
        named.append((name, (red, green, blue)))
    return named
