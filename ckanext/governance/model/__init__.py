"""SQLAlchemy models of the governance tables (created by migrations only)."""
from __future__ import annotations

from .agreement import Acceptance, Agreement, AgreementVersion
from .dataset_policy import DatasetPolicy, EmbargoSubscription
from .event import Event, Notification

__all__ = ["Acceptance", "Agreement", "AgreementVersion", "DatasetPolicy",
           "EmbargoSubscription", "Event", "Notification"]
