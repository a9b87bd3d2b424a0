"""Write run.ini: CKAN's test settings on the services of one of our inis.

Usage: make_ini.py SERVICES_INI TEST_CORE_INI ALLOWED_FUNCTIONS_FILE > run.ini

The databases and Redis come from SERVICES_INI (following its
``use = config:...`` chain), everything else from TEST_CORE_INI.
"""
from __future__ import annotations

import configparser
import pathlib
import sys

SERVICE_KEYS = (
    "sqlalchemy.url",
    "ckan.datastore.write_url",
    "ckan.datastore.read_url",
    "ckan.redis.url",
    "solr_url",
)


def app_settings(path: pathlib.Path) -> dict[str, str]:
    """[app:main] of ``path`` over the files it uses, nearest first."""
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # keys are case-sensitive (SECRET_KEY)
    parser.read(path)
    own = dict(parser.items("app:main")) if parser.has_section("app:main") else {}
    use = own.get("use", "")
    if use.startswith("config:"):
        base = pathlib.Path(use[len("config:"):])
        return {**app_settings(path.parent / base if not base.is_absolute() else base), **own}
    return own


def main(services: str, core: str, allowed: str) -> int:
    settings = app_settings(pathlib.Path(services).resolve())
    missing = [k for k in SERVICE_KEYS[:4] if k not in settings]
    if missing:
        print(f"make_ini: {services} does not set {', '.join(missing)}", file=sys.stderr)
        return 2
    lines = [
        "# Written by dev/ckan_suite.sh: do not edit.",
        "[app:main]",
        f"use = config:{pathlib.Path(core).resolve()}",
        *(f"{k} = {settings[k]}" for k in SERVICE_KEYS if k in settings),
        f"ckan.datastore.sqlsearch.allowed_functions_file = {pathlib.Path(allowed).resolve()}",
    ]
    # Logging sections are read from the file CKAN is given, not from the one it uses.
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str
    parser.read(core)
    for section in parser.sections():
        if section.startswith(("loggers", "handlers", "formatters", "logger_", "handler_", "formatter_")):
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {v}" for k, v in parser.items(section, raw=True)
                         if k not in parser.defaults())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
