"""Password policy for officers, after NIST SP 800-63B (section 3.1.1.2): length, a list of
common and breached passwords, and the words anyone who knows the officer or the police would
try first. Each refusal says why, so the officer can choose better.

The rules, in the order they are checked (the first that applies is the reason shown):

1. At most ``MAX_LENGTH`` characters (a hash of anything longer is work for nothing).
2. **Not a common or breached password**: the password, and the password without the digits
   and symbols people add at either end ("Password@123" -> "password"), with "leet" spellings
   undone ("p@ssw0rd" -> "password"), is looked up in ``cplan/data/passwords/``
   (30,000 passwords from the Burnett / Xato 10-million corpus as packaged by zxcvbn, and our
   own list of passwords common in India; see its README.md). Case never matters.
3. **Not made of guessable parts**: the officer's PNO, names and CUG numbers; police words
   ("police", "uppolice", "up", "cplan", "thana"...) and the names of the state, zones,
   ranges, every district, and the circles, stations and posts of the officer's own district
   (in English and Hindi, leet spellings undone); years 1900-2099; keyboard and alphabet runs
   ("qwerty", "1qaz", "abcd", "987"); a character repeated three times or a
   piece repeated ("abcabc"); and up to four digits at either end. When those are taken out,
   at least ``MIN_UNGUESSABLE`` letters or digits must be left, and not a common password
   ("Baghpat@Tiger2026" leaves "tiger"). Spaces and symbols never count: they separate words.
   Keyboard and alphabet runs count from four characters when they hold a letter ("qwer",
   "abcd"), since three-letter runs occur inside ordinary words ("flower", "first").
4. At least ``MIN_LENGTH`` characters. NIST asks for 8 where the password is one of two
   factors (ours is, after the CUG handset's code); officers open citizens' numbers, so we ask
   for 12: three ordinary words make one ("mango river lantern").

``problem(password, context)`` is pure and fast (a few milliseconds); ``context_for(officer)``
reads the officer's words from the database (four small queries).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "passwords"
LIST_FILES = ("common.txt", "india.txt")
MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_UNGUESSABLE = 8

POLICE_WORDS = (
    "police",
    "uppolice",
    "uppol",
    "polis",
    "pulis",
    "up",
    "upp",
    "cplan",
    "c-plan",
    "thana",
    "thane",
    "kotwali",
    "chowki",
    "daroga",
    "sipahi",
    "khaki",
    "vardi",
    "dial112",
    "up112",
    "dgp",
    "ssp",
    "asp",
    "sho",
    "cug",
    "uttar",
    "pradesh",
    "uttarpradesh",
    "lucknow",
    "india",
    "bharat",
    "hindustan",
    "पुलिस",
    "यूपी",
    "थाना",
    "उत्तर",
    "प्रदेश",
)
# Runs along these (either way) are keyboard or alphabet walks.
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!@#$%^&*()",
    "अआइईउऊएऐओऔ",
    "कखगघङचछजझञटठडढणतथदधनपफबभम",
)
# "Leet" spellings undone, one character for one (so positions still match); 1 and ! stand for
# i or l, hence two tables.
_LEET = {
    "0": "o",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "|": "l",
    "+": "t",
}
LEET = (str.maketrans({**_LEET, "1": "i", "!": "i"}), str.maketrans({**_LEET, "1": "l", "!": "l"}))
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_EDGE_DIGITS = re.compile(r"^[0-9]{1,4}|[0-9]{1,4}$")
_NOT_A_LETTER_AT_THE_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_WORD = re.compile(r"[^\W_]+")

PERSONAL, PLACE, PATTERN = "personal", "place", "pattern"
REASONS = {
    "too_long": _l("That password is too long."),
    "common": _l(
        "That password is on a list of common or breached passwords. Choose another: "
        "three or four ordinary words that do not belong together make a good one."
    ),
    PERSONAL: _l(
        "That password is built from your PNO, your name or your CUG number, which others "
        "know. Choose words that are not about you."
    ),
    PLACE: _l(
        "That password is built from police words or place names (UP Police, C-Plan, your "
        "district or police station), which anyone would try first."
    ),
    "few": _l("That password has too few letters and digits of its own; add another word."),
    PATTERN: _l(
        "That password is built from a year, a keyboard or alphabet run (qwerty, 12345, abcd) "
        "or repeated characters, which are tried first."
    ),
}


def too_short_reason():
    return _l("Choose a password of at least %(n)d characters.", n=MIN_LENGTH)


@dataclass(frozen=True)
class Context:
    """What an attacker would try first for this officer: words by kind, and numbers."""

    personal: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    numbers: tuple[str, ...] = field(default=())


@cache
def common_passwords() -> frozenset[str]:
    words: set[str] = set()
    for name in LIST_FILES:
        with open(DATA_DIR / name, encoding="utf-8") as lines:
            words.update(
                word
                for line in lines
                if (word := line.strip().casefold()) and not word.startswith("#")
            )
    return frozenset(words)


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password).casefold()


def words_of(*texts: str) -> set[str]:
    """Context words from names: each word of three letters or more, and the whole name run
    together ("Gautam Buddha Nagar" -> gautam, buddha, nagar, gautambuddhanagar)."""
    found: set[str] = set()
    for text in texts:
        parts = _WORD.findall(normalise(text or ""))
        found.update(part for part in parts if len(part) >= 3 and not part.isdigit())
        if len(parts) > 1:
            found.add("".join(parts))
    return found


def problem(password: str, context: Context = Context()):
    """The reason ``password`` is refused (a translatable message), or None when it is fine."""
    if len(password) > MAX_LENGTH:
        return REASONS["too_long"]
    text = normalise(password)
    if _is_common(text):
        return REASONS["common"]
    marks: list[str | None] = [None] * len(text)
    _mark_guessable(text, context, marks)
    left = "".join(
        char for char, mark in zip(text, marks, strict=True) if mark is None and _counts(char)
    )
    if left and _is_common(left):  # "Baghpat@Tiger2026": what is left is a common password
        return REASONS["common"]
    if len(left) < MIN_UNGUESSABLE:
        found = [mark for mark in marks if mark is not None]
        if found:  # the kind of guessable part that covers most of the password
            return REASONS[max((PERSONAL, PLACE, PATTERN), key=found.count)]
        return too_short_reason() if len(password) < MIN_LENGTH else REASONS["few"]
    if len(password) < MIN_LENGTH:
        return too_short_reason()
    return None


def _counts(char: str) -> bool:
    """Letters (with Devanagari's vowel signs) and digits count; spaces and symbols do not."""
    return unicodedata.category(char)[0] in "LMN"


def _is_common(text: str) -> bool:
    common = common_passwords()
    squashed = re.sub(r"\s+", "", text)
    core = _NOT_A_LETTER_AT_THE_ENDS.sub("", squashed)  # "password@123" -> "password"
    candidates = {text, squashed, core}
    for table in LEET:
        for candidate in (squashed, core):
            leet_undone = candidate.translate(table)
            candidates.update((leet_undone, _NOT_A_LETTER_AT_THE_ENDS.sub("", leet_undone)))
    return any(candidate in common for candidate in candidates if candidate)


def _mark(marks: list, start: int, end: int, kind: str) -> None:
    for index in range(start, end):
        if marks[index] is None:
            marks[index] = kind


def _mark_guessable(text: str, context: Context, marks: list) -> None:
    variants = {text, *(text.translate(table) for table in LEET)}
    for kind, words in ((PERSONAL, context.personal), (PLACE, (*POLICE_WORDS, *context.places))):
        for word in words:
            for variant in variants:
                start = variant.find(word)
                while start >= 0:
                    _mark(marks, start, start + len(word), kind)
                    start = variant.find(word, start + 1)
    for number in context.numbers:
        start = text.find(number)
        while start >= 0:
            _mark(marks, start, start + len(number), PERSONAL)
            start = text.find(number, start + 1)
    for match in _YEAR.finditer(text):
        _mark(marks, match.start(), match.end(), PATTERN)
    for sequence in SEQUENCES:
        for walk in (sequence, sequence[::-1]):
            _mark_runs(text, walk, marks)
    _mark_repeats(text, marks)
    for match in _EDGE_DIGITS.finditer(text):
        _mark(marks, match.start(), match.end(), PATTERN)


def _mark_runs(text: str, walk: str, marks: list) -> None:
    """Mark runs of characters that follow each other in ``walk``: three digits or symbols, or
    four with a letter (three-letter runs are common inside words: "flower", "first")."""
    start = 0
    for index in range(1, len(text) + 1):
        if index < len(text) and text[index - 1] + text[index] in walk:
            continue
        run = text[start:index]
        if len(run) >= 4 or (len(run) == 3 and not any(char.isalpha() for char in run)):
            _mark(marks, start, index, PATTERN)
        start = index


def _mark_repeats(text: str, marks: list) -> None:
    """Mark a character repeated three times or more, and a piece (3+) seen earlier."""
    for match in re.finditer(r"(.)\1{2,}", text):
        _mark(marks, match.start() + 1, match.end(), PATTERN)
    index = 3
    while index <= len(text) - 3:
        for length in range(min(len(text) - index, index), 2, -1):
            if text[index : index + length] in text[:index]:
                _mark(marks, index, index + length, PATTERN)
                index += length - 1
                break
        index += 1


# ---- the officer's own words ---------------------------------------------------------------


def context_for(officer) -> Context:
    """The PNO, names, CUG numbers and place names an attacker would try for ``officer``."""
    from cplan.extensions import db
    from cplan.models.accounts import Post, PostAssignment
    from cplan.models.geo import Unit, UnitKind
    from cplan.services.geo import district_of

    personal = words_of(officer.name or "") | {normalise(officer.pno or "")}
    numbers = {run for run in re.findall(r"[0-9]{4,}", officer.pno or "")}
    posts = list(
        db.session.scalars(
            select(Post)
            .join(PostAssignment, PostAssignment.post_id == Post.id)
            .where(PostAssignment.officer_id == officer.id, PostAssignment.ended_at.is_(None))
        )
    )
    for post in posts:
        numbers.add(post.cug_number[-10:])
    # The state, zones, ranges and every district; the officer's own units and their parents.
    above_district = (UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE, UnitKind.DISTRICT)
    own_units = [officer.unit, *(post.unit for post in posts)]
    ancestor_ids = {ancestor for unit in own_units for ancestor in unit.ancestor_ids}
    names = list(
        db.session.execute(
            select(Unit.name_en, Unit.name_hi).where(
                Unit.kind.in_(above_district) | Unit.id.in_(ancestor_ids)
            )
        )
    )
    # The circles and stations of the officer's district (or of the posts' districts).
    districts = {
        district.id: district for unit in own_units if (district := district_of(unit)) is not None
    }
    for district in districts.values():
        names.extend(
            db.session.execute(select(Unit.name_en, Unit.name_hi).where(district.covers(Unit.path)))
        )
    places = words_of(*(name for pair in names for name in pair))
    places |= words_of(*(post.title_en for post in posts), *(post.title_hi for post in posts))
    return Context(
        personal=tuple(sorted(personal - {""})),
        places=tuple(sorted(places)),
        numbers=tuple(sorted(numbers)),
    )
