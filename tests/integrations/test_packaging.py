"""The wheel an operator installs carries everything the plugin loads at run time,
installs beside a plain CKAN and migrates; the package metadata is what PyPI accepts."""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (built,) = out.glob("ckanext_governance-*.whl")
    return built


def test_wheel_ships_templates_email_texts_duo_terms_migrations_presets_and_config_declaration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "ckanext" / "governance"
    expected = {
        p.relative_to(ROOT).as_posix()
        for pattern in ("templates/**/*.html", "templates/**/*.txt", "data/*.json",
                        "migration/**/*", "config_declaration.yaml", "scheming/*.yaml",
                        "i18n/**/*")
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


def test_metadata_names_known_classifiers_the_tested_ckan_range_and_where_to_read_more():
    from trove_classifiers import classifiers as known

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["classifiers"] and set(project["classifiers"]) <= known, \
        sorted(set(project["classifiers"]) - known)
    (ckan,) = [d for d in project["dependencies"] if re.match(r"ckan\b", d)]
    from packaging.requirements import Requirement

    assert Requirement(ckan).specifier.contains(metadata.version("ckan"))  # the CKAN tested here
    assert {"Source", "Issues", "Changelog"} <= set(project["urls"])
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{project['version']}]" in changelog


def test_readme_lists_every_option_as_ckan_config_declaration_prints_it(request):
    """The README's configuration block is the command's output, so it cannot go stale."""
    out = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ckan"), "-c",
         str(request.config.getoption("--ckan-ini")), "config", "declaration", "governance"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout.strip()
    assert "ckanext.governance.default_tier" in out
    assert out in (ROOT / "README.md").read_text()


def _plain_ckan_site(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, str]]:
    """A new virtualenv with CKAN (the version of this one) and nothing of ours, and
    an ini for a database of its own, emptied."""
    import sqlalchemy as sa

    from ckan.common import config

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                    f"ckan[requirements]=={metadata.version('ckan')}"],
                   check=True, capture_output=True)
    url = sa.engine.make_url(config["sqlalchemy.url"]).set(database="ckan_wheel_test")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    ini = tmp_path / "site.ini"
    ini.write_text("\n".join([
        "[app:main]", "use = egg:ckan",
        f"sqlalchemy.url = {url.render_as_string(hide_password=False)}",
        "ckan.site_url = http://localhost:5000",
        "ckan.plugins = governance",
        f"solr_url = {os.environ.get('CKAN_SOLR_URL') or config['solr_url']}",
        f"ckan.redis.url = {config['ckan.redis.url']}",
        "SECRET_KEY = wheel-test-secret-not-for-production-0123456789",
        f"ckan.storage_path = {tmp_path / 'storage'}", "",
    ]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, dict(env, CKAN_INI=str(ini))


def test_the_wheel_installs_beside_a_plain_ckan_migrates_and_reports_up_to_date(wheel, tmp_path):
    venv, env = _plain_ckan_site(tmp_path)
    ckan = [str(venv / "bin" / "ckan"), "-c", env["CKAN_INI"]]

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*ckan, *args], env=env, cwd=tmp_path, capture_output=True, text=True)
        assert (done.returncode == 0) == ok, (args, done.returncode, done.stderr[-2000:])
        return done

    # Its only requirement, CKAN in the tested range, is there: nothing else is fetched.
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import ckanext.governance as g; print(g.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not this checkout

    run("db", "init")  # CKAN's tables, and the enabled plugins' migrations with them
    assert run("governance", "status").stdout.strip().endswith("up to date")
    run("db", "downgrade", "-p", "governance")  # as removing the extension does
    due = run("governance", "status", ok=False)
    assert "ckan db upgrade -p governance" in due.stderr
    run("db", "upgrade", "-p", "governance")
    assert run("governance", "status").stdout.strip().endswith("up to date")
    plugins = run("config", "declaration", "governance").stdout
    assert "ckanext.governance.default_tier = open" in plugins
