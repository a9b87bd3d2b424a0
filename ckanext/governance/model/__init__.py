"""SQLAlchemy models of the governance tables (created by migrations only)."""
from __future__ import annotations

from .dataset_policy import DatasetPolicy

__all__ = ["DatasetPolicy"]
