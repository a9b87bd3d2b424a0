"""The fullest site this project supports, shared by the inventory and the sweep.

Every plugin that can add a route or an action beside ``governance``: the
activity stream, the DataStore, the resource views, ckanext-scheming with its
default dataset schema, ckanext-dcat with its RDF endpoints, schema.org and
Croissant output, and CKAN 2.12's file subsystem with a real file storage.
Applied with CKAN's ``ckan_config`` markers (or, for a module-scoped world,
the same settings patched for the module), never by changing test.ini.
"""
from __future__ import annotations

import os

PLUGINS = (
    "activity datastore image_view webpage_view text_view datatables_view "
    "scheming_datasets dcat structured_data croissant governance"
)


def settings() -> dict[str, str]:
    """Config options of the full site (read once the test config is loaded)."""
    from ckan.common import config

    files = os.path.join(config["ckan.storage_path"], "files")
    return {
        "ckan.plugins": PLUGINS,
        # Activity details for everyone: the widest an operator may open them.
        "ckan.auth.public_activity_stream_detail": "true",
        "scheming.dataset_schemas": "ckanext.scheming:ckan_dataset.yaml",
        # A file storage: the file subsystem (file_create, /file/download)
        # and, derived from it, the resources storage.
        "ckan.files.storage.default.type": "ckan:fs",
        "ckan.files.storage.default.path": files,
        "ckan.files.storage.default.initialize": "true",
    }


def markers() -> list:
    import pytest

    return [pytest.mark.ckan_config(key, value) for key, value in settings().items()]
