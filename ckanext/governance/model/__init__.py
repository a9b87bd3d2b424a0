"""SQLAlchemy models of the governance tables (created by migrations only)."""
from __future__ import annotations

from .agreement import Acceptance, Agreement, AgreementVersion
from .dataset_policy import DatasetPolicy, EmbargoSubscription
from .event import Event, Notification
from .request import AccessRequest, Grant, RequestChange

__all__ = ["Acceptance", "AccessRequest", "Agreement", "AgreementVersion", "DatasetPolicy",
           "EmbargoSubscription", "Event", "Grant", "Notification", "RequestChange"]
