"""The wheel an operator installs carries everything the plugin loads at run time."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_email_texts_duo_terms_migrations_and_config_declaration(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("ckanext_governance-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "ckanext" / "governance"
    expected = {
        p.relative_to(ROOT).as_posix()
        for pattern in ("templates/**/*.html", "templates/**/*.txt", "data/*.json",
                        "migration/**/*", "config_declaration.yaml")
        for p in package.glob(pattern)
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected, "nothing to check"
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("dev/", "tests/", "solr_standin")) for n in names)
