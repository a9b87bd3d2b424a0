"""Make CKAN's extracted test packages the ones ``ckan.tests`` imports.

Usage: install_tests.py EXTRACTED_SDIST_DIR SITE_PACKAGES

CKAN's wheel already ships ckan/tests and ckanext/*/tests; a file of the
extracted sdist is copied into the installed package only where it is missing
there or differs, so running this again changes nothing.
"""
from __future__ import annotations

import filecmp
import pathlib
import shutil
import sys


def main(src: pathlib.Path, site: pathlib.Path) -> int:
    copied = same = 0
    for path in sorted(src.rglob("*")):
        if not path.is_file() or path.name == ".extracted":
            continue
        rel = path.relative_to(src)
        if not (site / rel.parts[0] / rel.parts[1]).is_dir():
            continue  # a test package of a plugin this CKAN does not have
        dest = site / rel
        if dest.is_file() and filecmp.cmp(path, dest, shallow=False):
            same += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        copied += 1
    print(f"CKAN's tests: {same} files already installed as extracted, {copied} copied into {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
