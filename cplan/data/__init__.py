"""Reference data the portal ships with, and where a command finds its files.

The folder holds the public data sets the demo, the state-scale generator and the default
geography imports read (their sources, licences and quirks are in ``README.md`` beside this
file). A clone of the repository needs nothing beside it: ``CPLAN_DATA_DIR`` (or a command's
``--data-dir``) points the commands at another folder with files of the same names, for
example a newer LGD export.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED_DATA_DIR = Path(__file__).resolve().parent

DISTRICTS_FILE = "up_districts.csv"
SUBDISTRICTS_FILE = "up_subdistricts.csv"
DEMO_PLACES_FILE = "baghpat_villages.csv"
DEMO_STATIONS_FILE = "baghpat_police_stations.csv"
# LGD's urban local bodies: the official names of census towns (the file's BAZIDPUR, census town
# 800723, is Badaut, that is Baraut), so the importer merges each with its town by name.
LOCAL_BODIES_FILE = "up_urban_local_bodies.csv"
NAMES_FILE = "names_hi_en.csv"

# Said wherever a reference file cannot be read, so the reader knows how to give another.
HOW_TO_GIVE_ANOTHER = (
    "give another folder with --data-dir or the CPLAN_DATA_DIR environment "
    "variable, or the file itself as the command's PATH argument"
)


class MissingDataFile(Exception):
    """A reference file is not where the data folder says; the message names the full path."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        super().__init__(f"cannot read {path} ({reason}): {HOW_TO_GIVE_ANOTHER}")


def data_dir(configured: str | Path | None = None) -> Path:
    """The reference data folder: ``configured`` (``DATA_DIR`` config, ``--data-dir``), else
    the folder shipped inside the package."""
    return Path(configured).expanduser().resolve() if configured else PACKAGED_DATA_DIR


def data_file(name: str, folder: str | Path | None = None) -> Path:
    """The full path of reference file ``name``; raises ``MissingDataFile`` when unreadable."""
    path = data_dir(folder) / name
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise MissingDataFile(path, error.strerror or type(error).__name__) from None
    return path
