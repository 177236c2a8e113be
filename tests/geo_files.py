"""What the geography import tests share (tests/test_geo_import*.py): the real LGD lists cut
down to a few districts (the ``lgd_districts`` fixture of conftest.py imports them), small files
written for one rule, and looking up what an import made or said."""

from pathlib import Path

from sqlalchemy import select

from cplan.data import data_dir as reference_data_dir
from cplan.models import Place
from cplan.pipelines.geo_import import find_district, import_districts, import_subdistricts

PLACES_HEADER = "state_code,district_code,district_name,name,sub,type,lat,lng,lgd_code"


def lgd_rows_of(source: Path, target: Path, district_codes) -> Path:
    """``source`` (an LGD list by district) with only the rows of ``district_codes``, at
    ``target``."""
    with open(source, encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[2] in district_codes]
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target


def import_lgd_districts(folder: Path, *codes: str) -> dict:
    """The state and the districts with LGD ``codes`` and their sub-districts, from the real LGD
    lists (the others skipped to keep tests fast; the full lists have tests of their own)."""
    data = reference_data_dir()
    import_districts(lgd_rows_of(data / "up_districts.csv", folder / "districts.csv", set(codes)))
    import_subdistricts(
        lgd_rows_of(data / "up_subdistricts.csv", folder / "subdistricts.csv", set(codes))
    )
    return {code: find_district(code) for code in codes}


def write(tmp_path: Path, text: str, name: str = "places.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def place(db, key: str) -> Place | None:
    return db.session.scalar(select(Place).where(Place.natural_key == key))


def notes_for_row(report, row, action=None) -> list:
    return [
        note
        for note in report.notes
        if note.row == row and (action is None or note.action == action)
    ]
