"""How often ``to_devanagari`` spells a real place name the way Hindi readers write it.

Reads the two hand-written sets in ``tests/data/transliteration/`` (``held_out_places.csv``
measures, ``dev_places.csv`` is what the rules were tuned on), prints each set's exact-match
rate and its misses. Usage, from the repository root::

    .venv/bin/python -m bench.transliteration            # both sets, misses of both
    .venv/bin/python -m bench.transliteration --quiet    # the rates only
    .venv/bin/python -m bench.transliteration --dev-misses   # while tuning: no held-out misses
    .venv/bin/python -m bench.transliteration --names FILE   # spell a CSV's ``name`` column

A name matches when the output equals one of the ``|``-separated spellings after Unicode NFC
and three equivalences that Hindi's standard spelling (Central Hindi Directorate) accepts
either way: a nukta on क ख ग ज फ (ज़ = ज), chandrabindu or anusvara (गाँव = गांव), and a nasal
consonant with virama or an anusvara before a consonant (चन्द्र = चंद्र).
"""
import argparse
import csv
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cplan.services.transliteration import to_devanagari

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "transliteration"
HELD_OUT = DATA / "held_out_places.csv"
DEV = DATA / "dev_places.csv"

_OPTIONAL_NUKTA = re.compile("(?<=[कखगजफ])\u093c")
_CLASS_NASAL = re.compile("[ङञणनम]\u094d(?=[कखगघचछजझटठडढतथदधपफबभ])")


def fold(text: str) -> str:
    """The spelling with the optional differences removed (see the module docstring)."""
    text = unicodedata.normalize("NFD", text)  # precomposed क़ ज़ ड़ ... become letter + nukta
    text = _OPTIONAL_NUKTA.sub("", text)
    text = text.replace("\u0901", "\u0902")  # chandrabindu -> anusvara
    text = _CLASS_NASAL.sub("\u0902", text)
    return unicodedata.normalize("NFC", text)


@dataclass
class Result:
    total: int
    misses: list[tuple[str, str, str]]  # name, output, accepted spellings

    @property
    def rate(self) -> float:
        return (self.total - len(self.misses)) / self.total if self.total else 0.0


def load(path: Path) -> list[tuple[str, list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["name"], row["hindi"].split("|")) for row in csv.DictReader(handle)]


def measure(rows: list[tuple[str, list[str]]]) -> Result:
    misses = []
    for name, spellings in rows:
        output = to_devanagari(name)
        if fold(output) not in {fold(spelling) for spelling in spellings}:
            misses.append((name, output, " | ".join(spellings)))
    return Result(len(rows), misses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quiet", action="store_true", help="print the rates only")
    parser.add_argument("--dev-misses", action="store_true",
                        help="print the dev set's misses only (while tuning the rules)")
    parser.add_argument("--names", type=Path, help="print name -> Hindi for a CSV's name column")
    args = parser.parse_args(argv)
    if args.names:
        with args.names.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                print(f"{row['name']}\t{to_devanagari(row['name'])}")
        return 0
    for label, path in (("dev set", DEV), ("held-out set", HELD_OUT)):
        result = measure(load(path))
        if not args.quiet and not (args.dev_misses and path == HELD_OUT):
            print(f"-- misses in the {label} (name, output, accepted):")
            for name, output, accepted in result.misses:
                print(f"   {name}: {output}   [{accepted}]")
        print(f"{label}: {result.total - len(result.misses)}/{result.total} exact "
              f"= {result.rate:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
