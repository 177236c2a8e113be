"""Names in two scripts: Roman <-> Devanagari transliteration and a script-neutral search key.

(Initial placeholder: being replaced by the real rules.)
"""


def to_devanagari(roman: str) -> str:
    return roman


def to_roman(devanagari: str) -> str:
    return devanagari


def search_key(text: str) -> str:
    return "".join(text.lower().split())
