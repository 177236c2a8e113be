"""Devanagari -> Roman (``to_roman``) and the script-neutral search key (``search_key``).

Their output is stored (search tokens, romanised names), so it must not change: the place-name
endings read apart below are frozen here, independent of ``to_devanagari``'s lexicon.

``to_roman`` (letter map plus Hindi schwa deletion)
  * ā/ī/ū are written a/i/u (Hindi-style, "Ram" not "Raam"); ड़ -> d (बड़ौत -> Badaut),
    ढ़ -> rh (गढ़ -> Garh); ज्ञ -> gy; anusvara -> m before p/b/m, ng before h (सिंह -> Singh),
    otherwise n; व -> w after a vowelless consonant (स्वामी -> Swami, मेनवा -> Menwa), else v.
  * Schwa deletion: the final inherent a goes, except after a conjunct ending in र/य/व/न/ण/म
    (मित्र -> Mitra, कृष्ण -> Krishna; but वार्ड -> Vard); a
    medial one goes in the context vowel-C_C-vowel, scanning right to left (बागपत -> Bagpat).
    The same place-name endings are read apart first (मुज़फ़्फ़र|नगर, not Muzaffarangar).
  * Words are title-cased; everything that is not Devanagari passes through (digits ० -> 0).

``search_key`` (script-neutral, spelling-tolerant; stored indexed and matched with LIKE)
  Devanagari is first romanised with ``to_roman``; the text is lowercased, accents and every
  non-letter are removed (so "Ram Kishore" == "Ramkishor"), then, letter by letter:
  * a, aa, e, ai, ae and ay (not before a vowel) are dropped: schwa is written or not at will
    (Khekada/Khekra, Baghpat/बागपत = Bagapat), and ए/ऐ/e/ai/ay are swapped freely
    (बालेनी/Balaini, Ajay/Ajai, Kishore/किशोर); i/ee/ii -> i; u/uu/oo/o/au/ou -> u
    (छपरोली/छपरौली, Mohammad/Muhammad).
  * h after a consonant is dropped: aspiration is often lost or added (Baghpat/Bagpat,
    Shiv/Siv, chh/ch); y after i is dropped (Priya/Pria); w -> v, z -> j (ज़ is usually typed
    ज), f -> p (फ/फ़), q -> k, x -> ks.
  * d -> r except as the very first letter: ड़ is romanised d or r (Badaut/Baraut,
    Khekada/Khekra), while a first letter is never ड़ and keeps Dhampur apart from Rampur.
  * Repeated letters are collapsed after the vowels are dropped (Mohammad/Mohamad, and
    Hardayal/Haradayal where d became r).
  For Roman text every rule looks only leftwards (and a vowel pair sounds like its first letter
  or not at all), so the key of a prefix is a prefix of the key of the whole name ("Bar" -> "br",
  "Baraut" -> "brut"): incremental typing works with ``LIKE 'key%'``. Known gaps: a query that
  starts with d misses names where that d is not first (it became r there); "ck" (Lucknow) and a
  bare c are kept apart from k.
"""

import re
import unicodedata

MAX_INPUT = 200
_NUKTA = "\u093c"
# The endings ``to_roman`` reads as a part of their own (सुरज|पुर). Frozen: changing them changes
# stored search keys.
_SUFFIXES = (
    ("nagar", "नगर"),
    ("khera", "खेड़ा"),
    ("kheda", "खेड़ा"),
    ("pura", "पुरा"),
    ("ganj", "गंज"),
    ("garh", "गढ़"),
    ("gaon", "गांव"),
    ("pur", "पुर"),
)


def _prepare(text: object) -> str:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return unicodedata.normalize("NFC", text[:MAX_INPUT])


# ---- Devanagari -> Roman -------------------------------------------------------------------
_CONS_DR = dict(
    zip(
        "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह",
        ("k kh g gh n ch chh j jh n t th d dh n t th d dh n p ph b bh m y r l v sh sh s h").split(),
        strict=True,
    )
)
_NUKTA_DR = {"क": "q", "ख": "kh", "ग": "gh", "ज": "z", "फ": "f", "ड": "d", "ढ": "rh", "य": "y"}
_SIGNS = dict(zip("ािीुूृेैोौॉॅॢ", "a i i u u ri e ai o au o e li".split(), strict=True))
_INDEP = dict(zip("अआइईउऊऋएऐओऔऑऍऌ", "a a i i u u ri e ai o au o e li".split(), strict=True))
_VIRAMA, _NASALS, _VISARGA = "्", "ंँ", "ः"
_DEVA_RUN = re.compile(r"[\u0900-\u0963\u0970-\u097f]+")
_DIGITS = str.maketrans("०१२३४५६७८९।॥", "0123456789..")
_KEEP_FINAL_A = {"r", "y", "v", "n", "m"}  # after a conjunct: Mitra, Surya, Krishna (not Vard)
_DEV_SUFFIXES = tuple(unicodedata.normalize("NFC", dev) for _, dev in _SUFFIXES)


def _syllables(run: str) -> list[dict]:
    syls: list[dict] = []
    i = 0
    while i < len(run):
        ch = run[i]
        i += 1
        if ch in _CONS_DR:
            cons = _CONS_DR[ch]
            if run[i : i + 1] == _NUKTA:
                cons, i = _NUKTA_DR.get(ch, cons), i + 1
            if ch == "ज" and run[i : i + 2] == _VIRAMA + "ञ":
                cons, i = "gy", i + 2
            syl = {"c": cons, "v": "a", "inherent": True, "tail": ""}
            if run[i : i + 1] == _VIRAMA:
                syl.update(v="", inherent=False, halant=True)
                i += 1
            elif run[i : i + 1] in _SIGNS:
                syl.update(v=_SIGNS[run[i]], inherent=False)
                i += 1
            syls.append(syl)
        elif ch in _INDEP:
            syls.append({"c": "", "v": _INDEP[ch], "inherent": False, "tail": ""})
        elif ch in _NASALS and syls:
            syls[-1]["tail"] += "\0"  # resolved once the next consonant is known
        elif ch == _VISARGA and syls:
            syls[-1]["tail"] += "h"
        elif ch == "ॐ":
            syls.append({"c": "", "v": "om", "inherent": False, "tail": ""})
    return syls


def _deletable(syl: dict) -> bool:
    return syl["inherent"] and not syl["tail"]


def _roman_word(run: str) -> str:
    syls = _syllables(run)
    if not syls:
        return ""
    last = syls[-1]
    if (
        len(syls) > 1
        and _deletable(last)
        and not (syls[-2].get("halant") and last["c"] in _KEEP_FINAL_A)
    ):
        last["v"] = ""
    for i in range(len(syls) - 2, 0, -1):
        prev, syl, nxt = syls[i - 1], syls[i], syls[i + 1]
        if _deletable(syl) and prev["v"] and nxt["c"] and nxt["v"]:
            syl["v"] = ""
    out = []
    for i, syl in enumerate(syls):
        cons = syl["c"]
        if cons == "v" and i and not syls[i - 1]["v"] and syls[i - 1]["c"]:
            cons = "w"
        following = syls[i + 1]["c"] if i + 1 < len(syls) else ""
        nasal = "m" if following[:1] in ("p", "b", "m") else "ng" if following == "h" else "n"
        out.append(cons + syl["v"] + syl["tail"].replace("\0", nasal))
    return "".join(out)


def _roman_compound(run: str) -> str:
    """Romanise a word, reading a common place-name ending as a part of its own (सुरज|पुर)."""
    for suffix in _DEV_SUFFIXES:
        stem = run[: -len(suffix)]
        if run.endswith(suffix) and stem and stem[-1] != _VIRAMA and stem[0] not in _SIGNS:
            return _roman_word(stem) + _roman_word(suffix)
    return _roman_word(run)


def to_roman(devanagari: str) -> str:
    """Readable Hindi-style Roman for Devanagari text; other characters pass through."""
    text = _prepare(devanagari).translate(_DIGITS)
    return _DEVA_RUN.sub(lambda m: _roman_compound(m.group()).capitalize(), text)


# ---- Search key ----------------------------------------------------------------------------
_KEY_VOWELS = {
    "aa": "",
    "ai": "",
    "ae": "",
    "ay": "",
    "ee": "i",
    "ii": "i",
    "oo": "u",
    "uu": "u",
    "au": "u",
    "ou": "u",
    "a": "",
    "e": "",
    "i": "i",
    "o": "u",
    "u": "u",
}
_KEY_CONS = {"w": "v", "z": "j", "f": "p", "q": "k", "x": "ks"}


def _roman_letters(text: str) -> str:
    roman = unicodedata.normalize("NFKD", to_roman(text)).lower()
    return re.sub(r"[^a-z0-9]", "", roman)


def search_key(text: str) -> str:
    """A lowercase ASCII phonetic key, the same for a name in either script and common spellings."""
    letters = _roman_letters(text)
    out: list[str] = []
    prev = ""  # the previous letter: "c" consonant, "v" + a vowel's sound, "" at start/digit
    i = 0
    while i < len(letters):
        ch, pair = letters[i], letters[i : i + 2]
        if ch.isdigit():
            out.append(ch)
            prev, i = "", i + 1
            continue
        if pair == "ay" and letters[i + 2 : i + 3] in tuple("aeiou"):
            pair = ""  # Gaya, Hardayal: this y starts the next syllable
        if pair in _KEY_VOWELS or ch in _KEY_VOWELS:
            size = 2 if len(pair) == 2 and pair in _KEY_VOWELS else 1
            sound = _KEY_VOWELS[letters[i : i + size]]
            prev, i = "v" + sound, i + size
        else:
            skip = (ch == "h" and prev == "c") or (ch == "y" and prev == "vi")
            prev, i = "c", i + 1
            if skip:
                continue
            sound = _KEY_CONS.get(ch, ch)
            if sound == "d" and out:
                sound = "r"
        for letter in sound:
            if not out or out[-1] != letter:
                out.append(letter)
    return "".join(out)[:MAX_INPUT]


def normalise_query(text: str, min_characters: int = 2) -> str | None:
    """The key for a user's query, or None when it has under ``min_characters`` letters/digits
    (or no key).

    Letters, digits and vowel signs count, so with two "रा" and "Ra" qualify but "र" and "A" do
    not (with three, "राम" and "Ram" do). A short key such as "j" (Ajay) is still returned:
    broad, but the name is real.
    """
    text = _prepare(text)
    meaningful = sum(ch.isalnum() or ch in _SIGNS for ch in text)
    key = search_key(text)
    return key if key and meaningful >= min_characters else None
