"""How often ``to_devanagari`` spells a real place name the way Hindi readers write it.

Reads the two hand-written sets in ``tests/data/transliteration/`` (``held_out_places.csv``
measures, ``dev_places.csv`` is what the rules were tuned on), prints each set's exact-match
rate and its misses. Usage, from the repository root::

    .venv/bin/python -m bench.transliteration            # both sets, misses of both
    .venv/bin/python -m bench.transliteration --quiet    # the rates only
    .venv/bin/python -m bench.transliteration --dev-misses   # while tuning: no held-out misses
    .venv/bin/python -m bench.transliteration --names FILE   # spell a CSV's ``name`` column
    .venv/bin/python -m bench.transliteration --dev-only     # while tuning: the dev set alone
    .venv/bin/python -m bench.transliteration --cv 5         # the dev set, cross-validated
    .venv/bin/python -m bench.transliteration --build-corpus # rewrite the scorer's corpus.py
    .venv/bin/python -m bench.transliteration --speed        # time per name

A name matches when the output equals one of the ``|``-separated spellings after Unicode NFC
and three equivalences that Hindi's standard spelling (Central Hindi Directorate) accepts
either way: a nukta on क ख ग ज फ (ज़ = ज), chandrabindu or anusvara (गाँव = गांव), and a nasal
consonant with virama or an anusvara before a consonant (चन्द्र = चंद्र).

The scorer's corpus (``cplan/services/transliteration/corpus.py``, written by ``--build-corpus``)
holds the development set's Hindi and the Hindi names shipped elsewhere in cplan; a word of the
held-out set's Hindi is left out of it unless the development set has that word too, so the
held-out rate measures names the scorer has not seen. ``--cv K`` measures the development set
the same way: each of K folds is spelled by a scorer whose corpus leaves that fold's words out.
The commands that tune (``--dev-misses``, ``--dev-only``, ``--cv``) never print a held-out name.
"""

import argparse
import csv
import random
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cplan.services.transliteration import to_devanagari
from cplan.services.transliteration.devanagari import spell_with
from cplan.services.transliteration.scoring import Scorer, letters

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "transliteration"
HELD_OUT = DATA / "held_out_places.csv"
DEV = DATA / "dev_places.csv"
PERSONS = DATA / "dev_persons.csv"
CORPUS = (
    Path(__file__).resolve().parent.parent / "cplan" / "services" / "transliteration" / "corpus.py"
)

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


def measure(rows: list[tuple[str, list[str]]], spell=to_devanagari) -> Result:
    misses = []
    for name, spellings in rows:
        output = spell(name)
        if fold(output) not in {fold(spelling) for spelling in spellings}:
            misses.append((name, output, " | ".join(spellings)))
    return Result(len(rows), misses)


def _words(spellings: list[str]) -> list[str]:
    return [word for spelling in spellings for word in spelling.split()]


def other_hindi_names() -> list[str]:
    """Hindi words shipped elsewhere in cplan: district, zone and range names, Baghpat's
    police stations, and the lexicon's stems and endings."""
    from cplan.devdata.generate import POLICE_ZONES
    from cplan.pipelines.geo_import import UP_DISTRICT_NAMES_HI
    from cplan.services.transliteration.lexicon import ENDINGS, PIECES

    names = list(UP_DISTRICT_NAMES_HI.values())
    for (_, zone_hi), ranges in POLICE_ZONES.items():
        names += [zone_hi, *(range_hi for _, range_hi in ranges)]
    stations = (
        Path(__file__).resolve().parent.parent / "cplan" / "data" / "baghpat_police_stations.csv"
    )
    with stations.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names += [row["thana_hi_source_A"], row["thana_hi_source_B"]]
    names += sorted(set(PIECES.values()) | set(ENDINGS.values()))
    words = [word for name in names for word in name.split() if word != "थाना"]
    return [word for word in words if re.fullmatch("[\u0900-\u097f]+", word)]


def corpus_words(
    train: list[tuple[str, list[str]]], unseen: list[tuple[str, list[str]]]
) -> list[str]:
    """The scorer's corpus: the Hindi of ``train`` and of ``other_hindi_names``, without a word
    of ``unseen``'s Hindi that ``train`` does not have."""
    train_words = [word for _, spellings in train for word in _words(spellings)]
    known = {letters(word) for word in train_words}
    hidden = {letters(word) for _, spellings in unseen for word in _words(spellings)} - known
    return train_words + [word for word in other_hindi_names() if letters(word) not in hidden]


def build_corpus() -> tuple[int, int]:
    """Write ``corpus.py`` from the dev sets and cplan's other Hindi names (held-out words left
    out); returns the number of words written and of words left out."""
    dev, held_out = load(DEV) + load(PERSONS), load(HELD_OUT)
    words = corpus_words(dev, held_out)
    left_out = len(corpus_words(dev, [])) - len(words)
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) + 1 > 95:
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word
    lines.append(line)
    body = "\n".join(lines)
    CORPUS.write_text(
        '"""The letter model\'s corpus (``scoring.py``): Devanagari words of real names, one '
        "space\napart. Written by ``python -m bench.transliteration --build-corpus`` from the "
        "development\nsets in ``tests/data/transliteration`` and the Hindi names shipped elsewhere "
        "in cplan; no\nword of the held-out set that the development sets lack. Do not edit by "
        "hand.\n"
        '"""\n\n'
        f'WORDS = """\n{body}\n"""\n',
        encoding="utf-8",
    )
    return len(words), left_out


def cross_validate(
    sets: list[list[tuple[str, list[str]]]],
    folds: int,
    seed: int = 13,
    weights: dict[str, float] | None = None,
) -> list[Result]:
    """Spell each fold of the ``sets`` (shuffled together) with a scorer whose corpus has not
    seen that fold; one result per set."""
    rows = [(k, row) for k, rows in enumerate(sets) for row in rows]
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    misses: list[list[tuple[str, str, str]]] = [[] for _ in sets]
    for fold_no in range(folds):
        test = set(order[fold_no::folds])
        train = [row for i, (_, row) in enumerate(rows) if i not in test]
        unseen = [rows[i] for i in sorted(test)]
        scorer = Scorer(corpus_words(train, [row for _, row in unseen]), weights)
        for k, _ in enumerate(sets):
            misses[k] += measure(
                [row for j, row in unseen if j == k],
                lambda name, scorer=scorer: spell_with(name, scorer),
            ).misses
    return [Result(len(rows_), misses[k]) for k, rows_ in enumerate(sets)]


def speed(rows: list[tuple[str, list[str]]]) -> float:
    """Milliseconds per name, the model already built."""
    to_devanagari("Rampur")
    start = time.perf_counter()
    for name, _ in rows:
        to_devanagari(name)
    return (time.perf_counter() - start) * 1000 / len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quiet", action="store_true", help="print the rates only")
    parser.add_argument(
        "--dev-misses",
        action="store_true",
        help="print the dev set's misses only (while tuning the rules)",
    )
    parser.add_argument(
        "--dev-only", action="store_true", help="measure the dev set only (while tuning the rules)"
    )
    parser.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="K-fold cross-validation of the dev set (corpus without the fold)",
    )
    parser.add_argument(
        "--rules-only", action="store_true", help="spell with the rules alone, without the scorer"
    )
    parser.add_argument(
        "--build-corpus",
        action="store_true",
        help="rewrite cplan/services/transliteration/corpus.py",
    )
    parser.add_argument("--speed", action="store_true", help="print milliseconds per name")
    parser.add_argument("--names", type=Path, help="print name -> Hindi for a CSV's name column")
    args = parser.parse_args(argv)
    if args.names:
        with args.names.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                print(f"{row['name']}\t{to_devanagari(row['name'])}")
        return 0
    if args.build_corpus:
        written, left_out = build_corpus()
        print(f"corpus.py: {written} words ({left_out} held-out words left out)")
        return 0
    if args.speed:
        rows = load(DEV)
        print(f"{speed(rows):.3f} ms per name ({len(rows)} dev names)")
        return 0
    spell = (lambda name: spell_with(name, None)) if args.rules_only else to_devanagari
    if args.cv:
        results = cross_validate([load(DEV), load(PERSONS)], args.cv)
        for label, result in zip(("dev set", "person names"), results, strict=True):
            if not args.quiet:
                print(f"-- misses in the {label}, cross-validated (name, output, accepted):")
                for name, output, accepted in result.misses:
                    print(f"   {name}: {output}   [{accepted}]")
        for label, result in zip(("dev set", "person names"), results, strict=True):
            print(
                f"{label}, {args.cv}-fold cross-validated: {result.total - len(result.misses)}/"
                f"{result.total} exact = {result.rate:.1%}"
            )
        return 0
    sets = (("dev set", DEV), ("person names", PERSONS))
    if not args.dev_only:
        sets += (("held-out set", HELD_OUT),)
    for label, path in sets:
        result = measure(load(path), spell)
        if not args.quiet and not (args.dev_misses and path == HELD_OUT):
            print(f"-- misses in the {label} (name, output, accepted):")
            for name, output, accepted in result.misses:
                print(f"   {name}: {output}   [{accepted}]")
        print(
            f"{label}: {result.total - len(result.misses)}/{result.total} exact = {result.rate:.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
