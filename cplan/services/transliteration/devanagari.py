"""Roman -> Devanagari for Indian place and person names: ``to_devanagari``.

Roman spellings of Indian names do not say which vowels are long, which t/d are retroflex or
where a conjunct goes ("Meerut" is मेरठ, "Jalalpur" जलालपुर), so letters alone cannot spell
them. The function works word by word and uses what is known before it guesses:

1. **Whole words** (``lexicon.WORDS``): English words of addresses as Hindi writes them (Road
   रोड, Colony कॉलोनी, Civil Lines सिविल लाइंस, City सिटी, Station, Market, Chowk, Tehsil ...),
   words with fixed spellings (Singh सिंह, Khurd खुर्द, Kalan कलां, Kapoor कपूर) and the few
   names whose Roman spelling is historical (Meerut मेरठ, Hapur हापुड़, Baraut बड़ौत). "No"
   before a number or a full stop is नं (Ward No. 12 -> वार्ड नं. 12). A single letter or a
   word of at most four letters without a vowel is read as letter names (M -> एम, RF -> आरएफ़);
   an underscore separates words (M_Ward -> एम वार्ड).
2. **Compounds** are split into known parts: ``lexicon.PIECES`` (name stems and words: Ram,
   Shyam, Jalal, Kamal, Hasan, Sultan, Shah, Jahan, Gandhi, Azad, Khan ...) and
   ``lexicon.ENDINGS``, which never start a word (-pur/-pura/-puri, -nagar, -ganj,
   -garh/-garhi, -abad, -khera/-kheri, -gaon, -majra, -wala/-wali, -kot, -bagh, -mau, -dih,
   -diha, -tal, -khana, -para, -nath, -deo, -raj, -ram, -pal, -ji, -ullah, -uddin, -iyan ...),
   each with the vowel length and retroflex letters Hindi writes (Sakal|diha सकलडीहा,
   Naini|tal नैनीताल, Kutub|khana कुतुबखाना). The split with the fewest letters left unknown
   wins, then the one with the fewest parts. Guards against false splits:
   * no part starts inside a letter pair (kh, sh, au, ee ...) or in kkh/tth (Makkhan); a doubled
     letter is split only before a known part (Amun|nagar, but Pallav);
   * a stem of three letters or fewer, or one starting with a vowel, only starts a word
     (not Mi|sri|kh, N|agra); another stem ends a word only after known parts (Ram|kishor, not
     Lo|hari) and is followed by a known part otherwise;
   * unknown letters form a part only if they start with a consonant, hold a vowel, do not
     start with a nasal + consonant (Kalinjar), and do not follow a short known part ending in a
     vowel (Nai|ni, A|mau|si) nor start with two consonants after a vowel (Bada|rkha);
   * -bad (rather than -abad) only after a vowel: Darya|bad -> दरियाबाद; no ending right
     after two unknown letters (Karampura करमपुरा, not Ka|ram|pura).
3. **Letters**, for the unknown rest, with rules for names:
   * Greedy tokens: aspirates (chh kh gh ch jh th dh ph bh sh), ksh -> क्ष, a word-initial
     gy -> ज्ञ, and vowel pairs (aa ee ii oo uu ai ae au ou ei, ow before a consonant);
     w/v -> व, z -> ज़, f -> फ़, q -> क़, x -> क्स, c/ck -> क, a word-final rh -> ढ़ (elsewhere
     r + h: Karhal करहल).
   * A part is spelled as if it ended the word (Raja|pur -> राजापुर), except the rules marked
     "at the end", which only a word's real end has (Mau मऊ, but Nau|garh नौगढ़).
   * Final vowels: a -> ा, i -> ी (not in a one-syllable part before an ending: Ni|wara निवाड़ा),
     u -> ू (not after two consonants other than a nasal + consonant: Vishnu).
   * The a of a one-syllable word or first part closed by one consonant is long (Ram, Lal,
     Kan|pur). The a before a single consonant (not h, ksh, x) and the last vowel is long when
     the word ends in a long vowel (Bara बारा, Ramala रमाला, Kairana कैराना, Bilari बिलारी) or,
     in three or more syllables, in a + consonant (Sohawal सोहावल); not after a consonant +
     aspirate (Sardhana सरधना). In a two-syllable word a + n/m + consonant ending in a vowel is
     long and nasal (Banda बांदा, Jhansi झांसी); after kh + a vowel the a stays long
     (Charkhari चरखारी, but Sardhana सरधना). A final i before r, m, sh is long (Hamir|pur,
     Rahim, Harish); i before n, l, r and a final a is long (Sandila संडीला).
   * Vowel groups: at the end, ai -> ाई (Debai) and au -> अऊ (Mau मऊ); ao -> आव and aon ->
     आंव before a consonant or at the end (Unnao उन्नाव, Aonla आंवला); eo -> एव (Deoria
     देवरिया); i + a -> िया (Ballia); any other vowel after a vowel is a full letter (Hardoi).
   * English spellings: a silent e after o + consonant is dropped (Kishore -> किशोर); final ey
     -> े (Dubey दुबे); final y after a consonant -> ी (Ganguly); -nder at the end -> ंदर (Sunder).
     Sanskrit spellings: k/v/m/h/d/gh + ri + consonant -> ृ (Kritika कृतिका); e/i + ndra at the
     end -> ेंद्र/िंद्र (Mahendra महेंद्र); sh + t/th -> ष्ट/ष्ठ (Drishti); a final ah after two
     syllables -> ा (Etawah).
   * n before a stop or a sibilant, m before p/ph/b/bh, becomes anusvara (गंज, संभल; but
     Tamkuhi तमकुही, Chinhat).
   * Two consonants with no vowel between them are written without a halant (सुलतान, बिजनौर),
     because a Hindi reader drops that schwa anyway. A conjunct is used only where names really
     have one: a doubled consonant (मोहम्मद; tt -> ट्ट, t + th -> ट्ठ, dd -> ड्ड), a consonant
     and its own aspirate (द्ध), a word-initial cluster (प्र, श्य), consonant + य, sh/d + व
     but not after a nasal (Ishwar, Thakurdwara; Tindwari), s + t/th/k/p (बस्ती), l + d
     (Haldaur हल्दौर), r before m y sh z j g th ch (शर्मा, मिर्ज़ा).
   * Retroflex ट only where the letters show it: t after h (Rohta रोहटा), a final hat
     (Chinhat चिनहट), tt. Otherwise the rules keep t/d dental and leave the choice to step 5.
4. The parts are joined: a part that starts with a vowel takes the vowel sign after a consonant
   (an anusvara before it becomes न: Jahan|abad जहानाबाद), ी + य becomes िय (Teli|yarganj).
5. **The statistical tie-break** (``scoring.py``). Step 3 spells each stretch of an unknown part
   the rules' way and also lists what else its letters may stand for (``_CONS_ALTS``,
   ``_vowel_alts``): t/th as ट/ठ, d/dh as ड/ढ or ड़/ढ़, r (and r + h) as ड़/ढ़, n as ण, a
   short vowel long or a long one short, o as ौ, e as ै (or, before h, as nothing: Mehrauli
   महरौली), ai/au as ाय/ाव, a conjunct made or undone, an anusvara written न, and a final
   an/on as a nasal vowel (Beswan बेसवां, Soron सोरों). The scorer picks the combination
   that a letter model of real Hindi names finds likeliest, each departure from the rules
   costing a tuned weight, so the rules' spelling stands unless the names we know say
   otherwise (Tanda टांडा, Katra कटरा, Rasra रसड़ा). Known parts and whole words are kept.

Pure Python and deterministic; input is capped at ``MAX_INPUT`` characters; never raises;
about 0.1 ms a name. The rules and weights were tuned on ``tests/data/transliteration``'s
development sets (places, and person names: contacts' names take the same path) and measured
on the held-out set (README, "Measured"); ``python -m bench.transliteration --help`` lists the
measurements. ``spell_with(name, None)`` gives the rules' spelling alone.
"""

import re
import unicodedata

from cplan.services.transliteration.lexicon import ENDINGS, LETTERS, PIECES, WORDS
from cplan.services.transliteration.roman import _prepare
from cplan.services.transliteration.scoring import Scorer, default_scorer

_NUKTA, _VIRAMA, _ANUSVARA = "\u093c", "\u094d", "\u0902"
_CONS = {
    "chh": "छ",
    "ksh": "क्ष",
    "kh": "ख",
    "gh": "घ",
    "ch": "च",
    "jh": "झ",
    "th": "थ",
    "dh": "ध",
    "ph": "फ",
    "bh": "भ",
    "sh": "श",
    "rh": "ढ" + _NUKTA,
    "ck": "क",
    "gy": "ज्ञ",
    "k": "क",
    "g": "ग",
    "c": "क",
    "j": "ज",
    "t": "त",
    "d": "द",
    "n": "न",
    "p": "प",
    "b": "ब",
    "m": "म",
    "y": "य",
    "r": "र",
    "l": "ल",
    "v": "व",
    "w": "व",
    "s": "स",
    "h": "ह",
    "z": "ज" + _NUKTA,
    "f": "फ" + _NUKTA,
    "q": "क" + _NUKTA,
    "x": "क्स",
    "dr": "द्र",  # only made by _render: Mahendra, Girindra
}
_RI_AFTER = {"k", "v", "w", "m", "h", "d", "gh"}
_RETROFLEX_AFTER_SH = {"t": "ट", "th": "ठ"}
_VOWELS = {  # token -> (independent letter, vowel sign)
    "aa": ("आ", "ा"),
    "a": ("अ", ""),
    "i": ("इ", "ि"),
    "ee": ("ई", "ी"),
    "ii": ("ई", "ी"),
    "u": ("उ", "ु"),
    "oo": ("ऊ", "ू"),
    "uu": ("ऊ", "ू"),
    "e": ("ए", "े"),
    "ai": ("ऐ", "ै"),
    "ae": ("ऐ", "ै"),
    "au": ("औ", "ौ"),
    "ou": ("औ", "ौ"),
    "o": ("ओ", "ो"),
    "ao": ("आव", "ाव"),
    "eo": ("एव", "ेव"),
    "ei": ("ए", "े"),
    "ow": ("औ", "ौ"),
    "ri": ("ऋ", "ृ"),  # only made by _render: Kritika, Vrishti
}
_SIGN_OF = {
    "अ": "",
    "आ": "ा",
    "इ": "ि",
    "ई": "ी",
    "उ": "ु",
    "ऊ": "ू",
    "ए": "े",
    "ऐ": "ै",
    "ओ": "ो",
    "औ": "ौ",
    "ऋ": "ृ",
}
_ANUSVARA_BEFORE = {
    "k",
    "kh",
    "g",
    "gh",
    "c",
    "ch",
    "chh",
    "j",
    "jh",
    "t",
    "th",
    "d",
    "dh",
    "p",
    "ph",
    "b",
    "bh",
    "s",
    "sh",
    "z",
    "f",
    "q",
    "ksh",
    "dr",
}
_REPHA_BEFORE = {"m", "y", "sh", "z", "j", "g", "th", "ch"}
_S_CLUSTER = {"t", "th", "k", "p"}
_LABIALS = {"p", "ph", "b", "bh"}
_LONGEST_KNOWN = max(len(key) for key in (*PIECES, *ENDINGS))
_PAIRS = {c + "h" for c in "kgcjtdpbsr"} | {"aa", "ee", "ii", "oo", "uu", "ai", "au", "ou"}
_ROMAN_RUN = re.compile(r"[A-Za-z]+")
_CONSONANT_LETTER = re.compile("[\u0915-\u0939\u0958-\u095f]\u093c?$")


def _tokens(word: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(word):
        for size in (3, 2, 1):
            piece = word[i : i + size]
            if len(piece) < size or piece in ("ri", "dr"):  # those two are made by _render
                continue
            if piece in _VOWELS and not (piece == "ow" and word[i + 2 : i + 3] in tuple("aeiou")):
                out.append(("v", piece))
                break
            if (
                piece in _CONS
                and not (piece == "gy" and i)
                and not (piece == "rh" and (i == 0 or i + 2 < len(word)))
            ):
                out.append(("c", piece))
                break
        else:  # a character outside a-z: cannot happen for a Roman run, kept to never loop
            piece = word[i]
        i += len(piece)
    return out


def _conjunct(toks: list[tuple[str, str]], i: int) -> bool:
    """Is consonant ``toks[i]`` joined (halant) to the consonant after it?"""
    c1, c2 = toks[i][1], toks[i + 1][1]
    after_nasal = i > 0 and toks[i - 1][1] in ("n", "m")
    return (
        c1 == c2
        or i == 0
        or c2 == "y"
        or (c2 in ("v", "w") and c1 in ("sh", "d") and not after_nasal)
        or (c1 == "s" and c2 in _S_CLUSTER)
        or (c1 == "r" and c2 in _REPHA_BEFORE)
        or c2 == c1 + "h"
        or (c1, c2) == ("l", "d")
    )


_ASPIRATES = {"kh", "gh", "chh", "jh", "th", "dh", "ph", "bh"}
_LONG_I_BEFORE = {"r", "m", "sh"}


def _lengthen(
    toks: list[tuple[str, str]],
    first_part: bool,
    word_end: bool,
) -> list[tuple[str, str]]:
    """Decide the vowel lengths that a Roman spelling leaves open (rule 3 of the docstring)."""
    toks = list(toks)
    vowel_at = [i for i, (kind, _) in enumerate(toks) if kind == "v"]
    if not vowel_at:
        return toks
    last, first, lastv = len(toks) - 1, vowel_at[0], vowel_at[-1]
    whole = first_part and word_end
    ends_in_vowel = lastv == last
    if ends_in_vowel and last > 0:
        tok = toks[last][1]
        if tok == "a":
            toks[last] = ("v", "aa")
        elif tok == "i" and (len(vowel_at) > 1 or whole or word_end):
            toks[last] = ("v", "ee")  # but Ni|wara निवाड़ा
        elif tok == "u" and not (
            last >= 2
            and toks[last - 1][0] == toks[last - 2][0] == "c"
            and toks[last - 2][1] not in ("n", "m")
        ):
            toks[last] = ("v", "uu")
    if len(vowel_at) == 1 and first_part and toks[first][1] == "a":
        tail = toks[first + 1 :]
        if len(tail) == 1 and tail[0][0] == "c" and tail[0][1] not in ("ksh", "x"):
            toks[first] = ("v", "aa")  # Ram, Lal, Kan|pur
        return toks
    if (
        len(vowel_at) == 2
        and whole
        and ends_in_vowel
        and toks[first][1] == "a"
        and first
        and first + 3 == lastv
        and toks[first + 1][1] in ("n", "m")
        and toks[first + 2][1] not in ("n", "m", "y", "h")
    ):
        toks[first] = ("v", "aa")  # Banda बांदा, Jhansi झांसी
    pen = vowel_at[-2] if len(vowel_at) >= 2 else -1
    if (
        pen > 0
        and toks[pen][1] == "a"
        and pen + 2 == lastv
        and toks[pen + 1][1] not in ("h", "ksh", "x")
        and (toks[pen - 1][0] == "c" or toks[pen - 1][1] == "i")
        and not (
            toks[pen - 1][1] in _ASPIRATES
            and toks[pen - 1][1] != "kh"
            and pen >= 2
            and toks[pen - 2][0] == "c"
        )
    ):
        if (ends_in_vowel and toks[last][1] in ("aa", "ee", "uu")) or (
            len(vowel_at) >= 3 and lastv == last - 1 and toks[lastv][1] == "a"
        ):
            toks[pen] = ("v", "aa")  # Bara, Ramala, Kairana, Bilari, Sohawal
    if (
        len(vowel_at) >= 2
        and lastv == last - 1
        and toks[lastv][1] == "i"
        and toks[last][1] in _LONG_I_BEFORE
    ):
        toks[lastv] = ("v", "ee")  # Hamir|pur, Rahim, Harish
    if (
        pen > 0
        and toks[pen][1] == "i"
        and pen + 2 == last
        and ends_in_vowel
        and toks[pen + 1][1] in ("n", "l", "r")
        and toks[last][1] == "aa"
    ):
        toks[pen] = ("v", "ee")  # Nagina नगीना, Sarila सरीला
    return toks


Slot = list[
    tuple[str, str]
]  # the spellings of one stretch of a word: (text, feature); default first

# What a Roman letter may stand for besides the rules' choice, named by the feature that the
# scorer (``scoring.py``) weighs. Roman spellings do not show retroflex, flapped or long sounds.
_CONS_ALTS = {
    "t": (("ट", "t_retro"),),
    "th": (("ठ", "th_retro"),),
    "d": (("ड", "d_retro"), ("ड" + _NUKTA, "d_flap")),
    "dh": (("ढ", "d_retro"), ("ढ" + _NUKTA, "d_flap")),
    "r": (("ड" + _NUKTA, "r_flap"),),
    "n": (("ण", "n_retro"),),
    "sh": (("ष", "sh_retro"),),
}


def _cons_alts(tok: str, prev: tuple[str, str] | None) -> list[tuple[str, str]]:
    """Other spellings of consonant ``tok``; the feature names say where it stands."""
    alts = []
    for text, feature in _CONS_ALTS.get(tok, ()):
        if prev is None and feature in ("d_flap", "r_flap", "n_retro", "sh_retro"):
            continue  # no word starts with ड़ or ण (nor, in names, with ष)
        if feature == "d_flap" and prev[0] == "c":
            continue
        if prev is None and feature in ("t_retro", "th_retro", "d_retro"):
            feature += "_first"  # Tanda टांडा, Dasna डासना
        elif prev is not None and prev[0] == "c" and prev[1] in ("n", "m") and feature == "d_retro":
            feature = "nd_retro"  # Sandila संडीला (but Banda बांदा)
        elif prev is not None and prev[0] == "c" and feature == "r_flap":
            feature = "r_flap_after_consonant"  # Rasra रसड़ा, Sagri सगड़ी
        alts.append((text, feature))
    return alts


def _vowel_alts(
    orig: str,
    tok: str,
    sign: bool,
    at_end: bool,
    first: bool,
    before_h: bool,
) -> list[tuple[str, str]]:
    """Other spellings of a vowel the Roman spelling leaves open (short or long, o/au, e/ai);
    ``first``: the word's first vowel, whose length has features of its own; ``before_h``: the
    next letter is h (eh is often a + h: Mehrauli महरौली)."""
    pick = 1 if sign else 0
    alts: list[tuple[str, str]] = []
    if orig in ("a", "i", "u") and tok == orig:
        long = {"a": "aa", "i": "ee", "u": "uu"}[orig]
        alts.append((_VOWELS[long][pick], f"{orig}_long_first" if first else f"{orig}_long"))
    elif orig == "a" and tok == "aa" and not at_end:
        alts.append((_VOWELS["a"][pick], "a_short"))
    elif orig == "i" and tok == "ee":
        alts.append((_VOWELS["i"][pick], "i_short_end" if at_end else "i_short"))
    elif orig == "u" and tok == "uu":
        alts.append((_VOWELS["u"][pick], "u_short"))
    elif tok == "o":
        alts.append((_VOWELS["au"][pick], "o_au"))  # Mahroni महरौनी
    elif tok == "e":
        alts.append((_VOWELS["ai"][pick], "e_ai"))
        if sign and before_h:
            alts.append(("", "e_a"))  # Mehrauli महरौली, Nehtaur नहटौर
    elif tok == "ai" and sign and not at_end:
        alts.append(("ाय", "ai_ay"))
    elif tok == "au" and sign and not at_end:
        alts.append(("ाव", "au_av"))
    return alts


_NASAL_VOWEL = {"a": "ां", "aa": "ां", "o": "ों"}  # a final vowel + n read as a nasal vowel,
# after another syllable: Beswan बेसवां, Soron सोरों (but not Sen, Ayaan)


def _render_slots(word: str, word_end: bool = True, first_part: bool = True) -> list[Slot]:
    """Spell an unknown word (or part of one) letter by letter: the rules' spelling of each
    stretch first, then the other spellings its letters allow (``_CONS_ALTS``, ``_vowel_alts``).

    A part is spelled as if it ended the word (Raja|pur -> राजापुर), except for the vowel groups
    that only a word's real end has (Mau मऊ, but Nau|garh नौगढ़).
    """
    toks = _tokens(word)
    if len(toks) >= 3 and toks[-1] == ("v", "e") and toks[-2][0] == "c" and toks[-3] == ("v", "o"):
        toks.pop()  # silent English e: Kishore, Shore
    if len(toks) >= 2 and toks[-1] == ("c", "y") and toks[-2] == ("v", "e"):
        toks.pop()  # Dubey -> दुबे
    elif word_end and len(toks) >= 2 and toks[-1] == ("c", "y") and toks[-2][0] == "c":
        toks[-1] = ("v", "ee")  # English-style final y: Ganguly -> गांगुली
    if (
        len(toks) >= 4
        and toks[0][1] in _RI_AFTER
        and toks[1:3] == [("c", "r"), ("v", "i")]
        and toks[3][0] == "c"
    ):
        toks[1:3] = [("v", "ri")]  # Sanskrit ऋ: Kritika कृतिका, Vrishti वृष्टि
    sanskrit_ndra = (
        word_end
        and len(toks) >= 5
        and toks[-4:] == [("c", "n"), ("c", "d"), ("c", "r"), ("v", "a")]
        and toks[-5][1] in ("e", "i", "ee")
    )
    if sanskrit_ndra:
        toks[-3:-1] = [("c", "dr")]  # Mahendra महेंद्र, Girindra गिरिंद्र
    vowels = sum(kind == "v" for kind, _ in toks)
    if (
        word_end
        and vowels >= 2
        and toks[-3:] == [("c", "d"), ("v", "e"), ("c", "r")]
        and toks[-4:-3] == [("c", "n")]
    ):
        toks[-2] = ("v", "a")  # English-style -nder is -ndar: Sunder सुंदर, Inder इंदर
    if (
        word_end
        and len(toks) >= 3
        and toks[-1] == ("c", "h")
        and toks[-2] == ("v", "a")
        and sum(kind == "v" for kind, _ in toks) >= 2
    ):
        toks.pop()  # Etah -> एटा, Etawah -> इटावा
    orig = [tok for _, tok in toks]
    toks = _lengthen(toks, first_part, word_end)
    if sanskrit_ndra:
        toks[-1] = ("v", "a")
    slots: list[Slot] = []
    skip = False
    for i, (kind, tok) in enumerate(toks):
        if skip:
            skip = False
            continue
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        after = toks[i + 2] if i + 2 < len(toks) else None
        if kind == "v":
            at_end = nxt is None and word_end
            if tok == "ao" and nxt == ("c", "n") and (after is None or after[0] == "c"):
                slots.append([("आंव" if prev is None or prev[0] == "v" else "ांव", "")])
                skip = True
            elif tok == "au" and at_end and prev is not None and prev[0] == "c":
                slots.append([("ऊ", "")])  # Mau, Lakhnau
            elif tok == "ai" and at_end and prev is not None and prev[0] == "c":
                slots.append([("ाई", "")])  # Debai, Aurai
            elif (
                prev is not None
                and prev[0] == "v"
                and prev[1] in ("i", "ee", "ii")
                and tok in ("a", "aa")
            ):
                slots.append([("य" + _VOWELS[tok][1], "")])  # Ballia: ि + या
            else:
                sign = prev is not None and prev[0] == "c"
                text = _VOWELS[tok][1 if sign else 0]
                first = first_part and not any(k == "v" for k, _ in toks[:i])
                options = [
                    (text, ""),
                    *_vowel_alts(orig[i], tok, sign, nxt is None, first, nxt == ("c", "h")),
                ]
                if (
                    nxt == ("c", "n")
                    and after is None
                    and word_end
                    and sign
                    and orig[i] in ("a", "o")
                    and any(k == "v" for k, _ in toks[:i])
                ):
                    options = [(spelled + "न", feature) for spelled, feature in options]
                    options.append((_NASAL_VOWEL[tok], "nasal_end"))
                    skip = True
                slots.append(options)
        elif (
            tok in ("n", "m")
            and prev
            and prev[0] == "v"
            and nxt
            and nxt[0] == "c"
            and nxt[1] in (_ANUSVARA_BEFORE if tok == "n" else _LABIALS)
        ):
            slots.append([(_ANUSVARA, ""), (_CONS[tok], "nasal_letter")])
        elif tok == "t" and (
            prev == ("c", "h")
            or (
                nxt is None and word_end and i >= 2 and toks[i - 2] == ("c", "h") and prev[0] == "v"
            )
        ):
            slots.append([("ट", "")])  # Rohta रोहटा, Chinhat चिनहट
            if nxt and nxt[0] == "c":
                slots.append([(_VIRAMA if _conjunct(toks, i) else "", "")])
        elif tok == "t" and nxt is not None and nxt[1] in ("t", "th"):
            slots.append([("ट" + _VIRAMA + ("ट" if nxt[1] == "t" else "ठ"), "")])  # पट्टी, मुट्ठी
            skip = True
        elif tok == "sh" and nxt is not None and nxt[1] in _RETROFLEX_AFTER_SH:
            slots.append([("ष" + _VIRAMA + _RETROFLEX_AFTER_SH[nxt[1]], "")])  # दृष्टि, विष्णु
            skip = True
        elif tok == "d" and nxt == ("c", "d"):
            slots.append([("ड" + _VIRAMA + "ड", "")])  # Adda अड्डा, Khadda
            skip = True
        else:
            alts = _cons_alts(tok, prev)
            if tok == "r" and nxt == ("c", "h") and prev is not None and prev[0] == "v":
                # r + h may be ढ़: Barhni बढ़नी, Sitamarhi सीतामढ़ी (but Karhal करहल)
                joined = _VIRAMA if _conjunct(toks, i) else ""
                slots.append([("र" + joined + "ह", ""), ("ढ" + _NUKTA, "rh_flap")])
                tok, i, nxt = "h", i + 1, after
                skip = True
            else:
                slots.append([(_CONS[tok], ""), *alts])
            if nxt and nxt[0] == "c":
                joined = _conjunct(toks, i)
                if nxt[1] == tok:
                    slots.append([(_VIRAMA, "")])
                else:
                    slots.append(
                        [(_VIRAMA, ""), ("", "conj_drop")]
                        if joined
                        else [("", ""), (_VIRAMA, "conj_add")]
                    )
    return slots


def _render(word: str, word_end: bool = True, first_part: bool = True) -> str:
    """The rules' spelling of an unknown word or part (see ``_render_slots``)."""
    return "".join(slot[0][0] for slot in _render_slots(word, word_end, first_part))


def _join(left: str, right: str) -> str:
    """Concatenate two spelled parts; a part starting with a vowel takes its sign."""
    if left[-1:] == "ी" and right[:1] == "य":
        return left[:-1] + "ि" + right  # Teli|yarganj तेलियरगंज
    if not left or not right or right[0] not in _SIGN_OF:
        return left + right
    if left[-1] == _ANUSVARA:
        left = left[:-1] + "न"  # a nasal before a vowel is न: Jahan|abad जहानाबाद
    if _CONSONANT_LETTER.search(left):
        return left + _SIGN_OF[right[0]] + right[1:]
    if left[-1] in ("ि", "ी") and right[0] in ("अ", "आ"):
        return left[:-1] + "ि" + "य" + _SIGN_OF[right[0]] + right[1:]
    return left + right


def _kind(word: str, i: int, piece: str) -> str:
    """How ``piece`` (at ``word[i]``) may be taken: "start" or "inner" (a stem of ``PIECES``),
    "ending" (``ENDINGS``) or "" (spelled letter by letter)."""
    if i == 0:
        return "start" if piece in PIECES else ""
    if piece in ENDINGS:
        return "ending" if piece != "bad" or word[i - 1] in "aeiou" else ""  # Darya|bad, Sad|abad
    # a short stem, or one starting with a vowel, only starts a word: not Mi|sri|kh, N|agra
    return "inner" if piece in PIECES and len(piece) > 3 and piece[0] not in "aeiou" else ""


def _split(word: str) -> list[tuple[str, bool]]:
    """The best split of a lowercase word into (part, known) pairs (see rule 2)."""
    n = len(word)
    vowels_before = [0]  # vowels_before[k]: how many of word[:k] are vowels (or y)
    for ch in word:
        vowels_before.append(vowels_before[-1] + (ch in "aeiouy"))
    Split = list[tuple[str, str]]
    best: list[tuple[tuple[int, int, int], Split] | None] = [None] * (n + 1)
    best[0] = ((0, 0, 0), [])
    for i in range(n):
        if best[i] is None or (
            i
            and (
                word[i - 1 : i + 1] in _PAIRS
                or (word[i - 1] == word[i] and word[i + 1 : i + 2] == "h")
            )
        ):
            continue  # no part starts inside a letter pair, nor in kkh, tth ... (Makkhan)
        (unknown, parts, _), split = best[i]
        before = split[-1] if split else None
        for j in range(i + 1, n + 1):
            piece = word[i:j]
            kind = _kind(word, i, piece) if j - i <= _LONGEST_KNOWN else ""
            has_vowel = vowels_before[j] > vowels_before[i]
            if i and word[i - 1] == word[i] and not kind:
                continue  # a doubled letter splits only before a known part: Amun|nagar, Pallav
            if kind == "ending" and before is not None and not before[1] and len(before[0]) <= 2:
                continue  # no ending after two unknown letters: Nagram नगराम, not Na|gram
            if kind == "inner" and j == n and any(not k for _, k in split):
                # An inner stem ends a word only after known parts: Ram|kishor, not Lo|hari.
                continue
            if not kind and before is not None:
                if before[1] == "inner" or word[i] in "aeiou" or not has_vowel:
                    continue  # not Kar|mali|x, Firoz|abad only as known, not Khan|d|wari
                if before[0][-1] in "aeiouy" and (
                    len(before[0]) <= 3 or piece[1:2] not in tuple("aeiouyh")
                ):
                    continue  # not Nai|ni, A|mau|si, Bada|rkha
                if len(piece) > 1 and piece[0] in "nm" and piece[1] not in "aeiouy":
                    continue  # a nasal before a consonant closes the syllable before: Kalinjar
            if not kind and before is None and j < n and not has_vowel:
                continue
            cost = (unknown + (0 if kind else len(piece)), parts + 1, 0 if kind else len(piece))
            if best[j] is None or cost < best[j][0]:
                best[j] = (cost, [*split, (piece, kind)])
    return [(piece, bool(kind)) for piece, kind in best[n][1]] if best[n] else [(word, False)]


def _join_slots(left: list[Slot], right: list[Slot]) -> list[Slot]:
    """``_join`` for spelled parts with alternatives: where joining changes letters (a vowel
    sign, न for an anusvara), the stretches it touches keep only the joined spelling."""
    ltext = "".join(slot[0][0] for slot in left)
    rtext = "".join(slot[0][0] for slot in right)
    plain, joined = ltext + rtext, _join(ltext, rtext)
    if joined == plain:
        return left + right
    start = 0
    while start < min(len(plain), len(joined)) and plain[start] == joined[start]:
        start += 1
    tail = 0
    while tail < min(len(plain), len(joined)) - start and plain[-1 - tail] == joined[-1 - tail]:
        tail += 1
    end = len(plain) - tail
    out: list[Slot] = []
    frozen_from = frozen_to = None  # character offsets (in ``plain``) of the merged stretch
    pos = 0
    for slot in left + right:
        size = len(slot[0][0])
        if pos + size <= start or pos >= end:
            if frozen_from is not None and pos >= end and frozen_to is not None:
                out.append([(joined[frozen_from : len(joined) - (len(plain) - frozen_to)], "")])
                frozen_from = frozen_to = None
            out.append(slot)
        else:
            if frozen_from is None:
                frozen_from = pos
            frozen_to = pos + size
        pos += size
    if frozen_from is not None and frozen_to is not None:
        out.append([(joined[frozen_from : len(joined) - (len(plain) - frozen_to)], "")])
    return out


def _word_slots(word: str) -> list[Slot]:
    """A Roman word as stretches of Devanagari with their possible spellings (rules 1-4)."""
    lower = word.lower()
    if lower in WORDS:
        return [[(WORDS[lower], "")]]
    if len(lower) == 1 or (len(lower) <= 4 and not any(ch in "aeiouy" for ch in lower)):
        return [[("".join(LETTERS[ch] for ch in lower), "")]]
    slots: list[Slot] = []
    parts = _split(lower)
    for k, (piece, known) in enumerate(parts):
        if known:
            part = [[(PIECES.get(piece) or ENDINGS[piece], "")]]
        else:
            part = _render_slots(piece, word_end=k + 1 == len(parts), first_part=k == 0)
        slots = _join_slots(slots, part)
    return slots


def _word(word: str, scorer: "Scorer | None") -> str:
    slots = _word_slots(word)
    if scorer is None or all(len(slot) == 1 for slot in slots):
        return "".join(slot[0][0] for slot in slots)
    return scorer.best(slots)


def to_devanagari(roman: object) -> str:
    """Spell a Roman-script Indian name in Devanagari; other characters pass through."""
    return spell_with(roman, default_scorer())


def spell_with(roman: object, scorer: "Scorer | None") -> str:
    """``to_devanagari`` with another scorer (``None``: the rules' spelling, no statistics)."""
    text = _prepare(roman).replace("_", " ")

    def spell(match: re.Match) -> str:
        word = match.group()
        rest = text[match.end() :].lstrip()
        if word.lower() == "no" and rest[:1] and (rest[0] == "." or rest[0].isdigit()):
            return "नं"
        return _word(word, scorer)

    return unicodedata.normalize("NFC", _ROMAN_RUN.sub(spell, text))
