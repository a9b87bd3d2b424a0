"""The "Tell me when available" button of an embargoed dataset."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.plugins.toolkit as tk

__all__ = ["governance_embargo"]

governance_embargo = Blueprint("governance_embargo", __name__)


@governance_embargo.route("/dataset/<id>/governance/subscribe", methods=["POST"])
def embargo_subscribe(id: str) -> Any:
    """The "Tell me when available" button (a CSRF-protected form)."""
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        result = tk.get_action("governance_embargo_subscribe")(context, {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Dataset not found"))
    except tk.NotAuthorized:
        return tk.redirect_to("user.login", came_from=tk.url_for("dataset.read", id=id))
    except tk.ValidationError as err:
        tk.h.flash_error(" ".join(sum(err.error_dict.values(), [])))
        return tk.redirect_to("dataset.read", id=id)
    tk.h.flash_success(tk._("We will e-mail you when the data becomes available on {date} (UTC).")
                       .format(date=tk.h.governance_date_words(result["embargo_until"])))
    return tk.redirect_to("dataset.read", id=id)
