"""Web pages and routes, one module per capability; each holds one blueprint.

The blueprints are registered by the plugin's ``@tk.blanket.blueprints``,
which reads ``__all__`` here.
"""
from __future__ import annotations

from ..csrf import governance_csrf
from .access_requests import governance_requests
from .agreements import governance_agreements
from .data_gate import governance, refuse_nul_in_path
from .embargo import governance_embargo
from .history import governance_history
from .ledger import governance_ledger
from .publication import governance_publication

__all__ = ["governance_csrf", "governance", "governance_agreements", "governance_embargo",
           "governance_history", "governance_ledger", "governance_publication", "governance_requests"]

# No id or name holds a NUL character: on our pages such a URL names nothing (404).
for _blueprint in (governance, governance_agreements, governance_embargo, governance_ledger,
                   governance_publication, governance_requests):
    _blueprint.before_request(refuse_nul_in_path)
