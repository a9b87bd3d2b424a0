"""CKAN plugin entry point: interfaces wired to the modules that implement them.

Nothing is decided here. Capabilities live in their own modules (see DESIGN.md);
the blanket decorators register what each module lists in ``__all__``.
"""
from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.cli
@tk.blanket.config_declarations
class GovernancePlugin(p.SingletonPlugin):
    pass
