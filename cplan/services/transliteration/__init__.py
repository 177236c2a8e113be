"""Names in two scripts: Roman <-> Devanagari spellings and a script-neutral search key.

Names reach us in whatever script the source used: official lists in UPPERCASE Roman
("SURAJPUR MENWA"), Hindi typed by station staff ("बड़ौत"), Hinglish ("Badaut"). Everything here
is pure Python, deterministic, caps its input at ``MAX_INPUT`` (200) characters and never raises.

* ``to_devanagari`` (``devanagari.py``, word lists in ``lexicon.py``, the statistical
  tie-break in ``scoring.py`` with its corpus of real Hindi names in ``corpus.py``): a Roman
  place or person name in Hindi spelling; its module docstring lists the rules. Generated
  spellings are plausible, not authoritative: callers mark them as machine-generated.
* ``to_roman``, ``search_key``, ``normalise_query`` (``roman.py``): Hindi-style Roman and the
  phonetic key that search tokens are stored under. Their output must not change (stored keys).
"""

from cplan.services.transliteration.devanagari import to_devanagari
from cplan.services.transliteration.roman import MAX_INPUT, normalise_query, search_key, to_roman

__all__ = ["MAX_INPUT", "normalise_query", "search_key", "to_devanagari", "to_roman"]
