"""The WSGI application of the stack (``dev/stack.sh``), as CKAN's deployment
docs write one: the configuration named by ``CKAN_INI``, loaded once per
worker process by the WSGI server (gunicorn here; uWSGI takes the same file
with ``wsgi-file``)."""
from __future__ import annotations

import logging
import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ["CKAN_INI"]))

# CKAN applies the ini's logging sections with logging.config.fileConfig, which
# disables the loggers that exist already: the WSGI server's own among them.
for name in ("gunicorn.access", "gunicorn.error"):
    logging.getLogger(name).disabled = False
