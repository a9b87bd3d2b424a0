"""The wheel an operator installs carries everything the plugin loads at run time."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
    assert not any(n.startswith(("dev/", "tests/", "benchmarks/")) for n in names)


def test_the_demo_gets_secrets_of_its_own_and_none_are_committed(tmp_path):
    import re

    from ckan.cli import CKANConfigLoader

    committed = (ROOT / "dev" / "demo.ini").read_text()
    assert not re.search(r"(?m)^\s*(SECRET_KEY|api_token\.jwt|beaker\.session\.secret)", committed)
    script = [sys.executable, str(ROOT / "dev" / "demo_secrets.py")]
    one, two = tmp_path / "a" / "demo.ini", tmp_path / "b" / "demo.ini"
    for path in (one, two):
        subprocess.run(script + [str(path)], check=True, capture_output=True)
    first = CKANConfigLoader(str(one)).get_config()
    second = CKANConfigLoader(str(two)).get_config()
    assert len(first["SECRET_KEY"]) >= 40 and first["SECRET_KEY"] != second["SECRET_KEY"]
    assert first["api_token.jwt.encode.secret"] == first["api_token.jwt.decode.secret"]
    assert first["api_token.jwt.encode.secret"] != second["api_token.jwt.encode.secret"]
    assert first["sqlalchemy.url"].endswith("/ckan_demo")  # the rest comes from dev/demo.ini
    assert one.stat().st_mode & 0o077 == 0  # only its owner reads it
    kept = one.read_text()
    subprocess.run(script + [str(one)], check=True, capture_output=True)
    assert one.read_text() == kept  # a restart keeps sessions and tokens valid
