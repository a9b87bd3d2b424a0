"""CKAN plugin entry point: interfaces wired to the modules that implement them.

Nothing is decided here. Each capability lives in its own module (the
README's "Code map"); the blanket decorators register what the action, auth,
validator, helper, view and command modules export.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from . import csrf, files, harvest, notifications, search_index
from .logic import action, auth
from .logic.action import terms as term_actions


@tk.blanket.actions(action.get_actions)
@tk.blanket.auth_functions(auth.get_auth_functions)
@tk.blanket.blueprints
@tk.blanket.helpers
@tk.blanket.validators
@tk.blanket.cli
@tk.blanket.config_declarations
class GovernancePlugin(p.SingletonPlugin, DefaultTranslation):
    # Our message catalogues (i18n/<locale>/LC_MESSAGES/ckanext-governance.mo).
    p.implements(p.ITranslation)
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IFiles, inherit=True)
    p.implements(p.IMiddleware, inherit=True)

    # IConfigurer

    def update_config(self, config_: Any) -> None:
        tk.add_template_directory(config_, "templates")
        # ckanext-dcat's graphs say the terms too (access rights, embargo, DUO).
        if any(p.plugin_loaded(name) for name in ("dcat", "structured_data", "croissant")):
            # dcat.py imports ckanext-dcat, an optional plugin: only when it is loaded.
            from . import dcat

            dcat.register_profiles(config_)
        # Harvests keep the terms the harvesting site's publishers set (harvest.py).
        if p.plugin_loaded("harvest"):
            harvest.register_fields(config_)

    # IConfigurable

    def configure(self, config_: Any) -> None:
        # Deliver queued notifications after each commit that added some.
        notifications.listen()

    # IMiddleware

    def make_middleware(self, app: Any, config: Any) -> Any:
        # The app is built: what is CSRF-exempt now was exempted on purpose.
        csrf.remember_deliberate_exemptions()
        return app

    # IPackageController

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        # Before CKAN commits and indexes the new dataset (updates are stored
        # by the chained package_update).
        term_actions.store_taken_fields(context, pkg_dict)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return search_index.index_document(pkg_dict)

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search_index.search_params(search_params)

    # IFacets

    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        facets_dict["access_tier"] = tk._("Access")
        facets_dict["embargoed"] = tk._("Embargo")
        return facets_dict

    # IFiles

    def files_file_allows(self, context: Any, file: Any, operation: Any) -> bool | None:
        return files.file_allows(context, file, operation)

    def files_owner_allows(self, context: Any, owner_type: str, owner_id: str,
                           operation: Any) -> bool | None:
        return files.owner_allows(context, owner_type, owner_id, operation)
