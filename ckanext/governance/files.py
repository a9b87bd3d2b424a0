"""CKAN 2.12's file subsystem, held to the data gate (``IFiles``).

A file whose owner is a dataset or one of its resources is that dataset's
data. CKAN's cascade access (``ckan.files.owner.cascade_access``) lets anyone
who may read the owner read the file, and a gated dataset's metadata is
public, so without this module ``file_show`` and ``/file/download/<id>``
would hand the file to everybody. Here a viewer the access decision denies is
refused; everyone else, and every other owner, is left to CKAN (``None``).
Nothing is granted here, only refused.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
from ckan.types import Context

from . import access


def file_allows(context: Context, file: model.File, operation: str) -> bool | None:
    """``IFiles.files_file_allows``: reading a dataset's file (its details, its
    download) needs access to the dataset's data. Changing or deleting it is
    CKAN's decision (cascade to ``<owner>_update``/``_delete``, editors only)."""
    if operation != "show":
        return None
    owner = file.owner
    if owner is None:
        return None
    return _refuse_unless_data_allowed(context, owner.owner_type, owner.owner_id)


def owner_allows(context: Context, owner_type: str, owner_id: str, operation: str) -> bool | None:
    """``IFiles.files_owner_allows``: listing a dataset's or resource's files
    (``file_owner_scan``) gives their names and locations, so it needs access to
    the data too. Transferring a file to an owner is CKAN's decision."""
    if operation != "file_scan":
        return None
    return _refuse_unless_data_allowed(context, owner_type, owner_id)


def _refuse_unless_data_allowed(context: Context, owner_type: Any, owner_id: Any) -> bool | None:
    package_id = _dataset_of(owner_type, owner_id)
    if package_id is None:
        return None  # not a dataset's file: CKAN decides
    gate = access.gate_for(context, package_id)
    if gate is None or not gate.can_access:
        return False
    return None  # CKAN still checks the dataset itself (private, deleted)


def _dataset_of(owner_type: Any, owner_id: Any) -> str | None:
    """The dataset a file owner belongs to; None for owners that are not a
    dataset or a resource, or that do not exist (CKAN's cascade answers)."""
    if not isinstance(owner_id, str) or not owner_id:
        return None
    if owner_type == "package":
        pkg = model.Package.get(owner_id)  # an id or a name, as CKAN's cascade accepts
        return pkg.id if pkg is not None else None
    if owner_type == "resource":
        resource = model.Resource.get(owner_id)
        return resource.package_id if resource is not None else None
    return None
