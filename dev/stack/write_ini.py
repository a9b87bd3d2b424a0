"""Write the stack's configuration, ``.data/stack.ini``: the demo's site and
plugins (with this checkout's secrets, from ``.data/demo.ini``) over
databases, a Solr core, a Redis database, storage and an SMTP port of its own.

``python dev/stack/write_ini.py ROOT PORT SOLR_PORT SMTP_PORT``; rewritten at each start
(it holds no secret of its own).
"""
from __future__ import annotations

import pathlib
import sys


def main(root: pathlib.Path, port: str, solr_port: str, smtp_port: str) -> None:
    demo = root / ".data" / "demo.ini"
    text = demo.read_text()
    logging = text[text.index("[loggers]"):] if "[loggers]" in text else ""
    pg = "postgresql://{user}:pass@localhost/{db}"
    (root / ".data" / "stack.ini").write_text(
        "# Written by dev/stack.sh at each start: the demo's site over services of its own.\n"
        "[DEFAULT]\ndebug = false\n\n[app:main]\n"
        f"use = config:{demo}\n"
        "ckan.site_id = governance_stack\n"
        f"ckan.site_url = http://127.0.0.1:{port}\n"
        f"sqlalchemy.url = {pg.format(user='ckan_default', db='ckan_stack')}\n"
        f"ckan.datastore.write_url = {pg.format(user='ckan_default', db='datastore_stack')}\n"
        f"ckan.datastore.read_url = {pg.format(user='datastore_default', db='datastore_stack')}\n"
        f"solr_url = http://127.0.0.1:{solr_port}/solr/ckan\n"
        "ckan.redis.url = redis://127.0.0.1:6379/4\n"
        f"ckan.storage_path = {root / '.data' / 'stack-storage'}\n"
        f"smtp.server = 127.0.0.1:{smtp_port}\n\n"
        + logging
    )


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), *sys.argv[2:5])
