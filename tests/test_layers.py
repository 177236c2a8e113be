"""The layers hold: import-linter's contracts in setup.cfg pass on the code, and fail on a copy
of it into which one wrong import was planted (so the contracts are not empty words).

The contracts: blueprints and commands over the web layer over devdata over pipelines over
services over models (``layers``); nothing below the web layer imports a request global such as
``flask.request`` (``request-globals``, tests/import_contracts.py); no import cycles between the
modules of a package (``cycles``).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install -e '.[dev]')"
)


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "setup.cfg"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_code(destination: Path) -> Path:
    """The Python files of cplan, setup.cfg and the contract type, as the contracts read them."""
    shutil.copytree(
        ROOT / "cplan",
        destination / "cplan",
        ignore=lambda folder, names: [
            name
            for name in names
            if not name.endswith(".py") and not (Path(folder) / name).is_dir()
        ],
    )
    (destination / "tests").mkdir()
    for name in ("__init__.py", "import_contracts.py"):
        shutil.copy(ROOT / "tests" / name, destination / "tests" / name)
    shutil.copy(ROOT / "setup.cfg", destination / "setup.cfg")
    return destination


def test_the_code_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract", "report"),
    [
        (
            "cplan/services/roster.py",
            "from flask import request",
            "Nothing below the web layer reads the request",
            "cplan.services.roster imports flask.request",
        ),
        (
            "cplan/services/sms.py",
            "import flask\nADDRESS = flask.g",
            "Nothing below the web layer reads the request",
            "cplan.services.sms imports flask.g",
        ),
        (
            "cplan/models/geo.py",
            "from cplan.services import roster",
            "Layers",
            "cplan.models is not allowed to import cplan.services",
        ),
        (
            "cplan/services/audit.py",
            "from cplan.web import kit",
            "Layers",
            "cplan.services is not allowed to import cplan.web",
        ),
        (
            "cplan/services/phone.py",
            "from cplan.services import roster",
            "No import cycles",
            ".phone -> .roster",
        ),
    ],
)
def test_a_wrong_import_breaks_its_contract(tmp_path, module, planted, contract, report):
    root = copy_of_the_code(tmp_path)
    with open(root / module, "a", encoding="utf-8") as source:
        source.write(f"\n{planted}\n")
    result = lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and report in " ".join(broken.split()), result.stdout
