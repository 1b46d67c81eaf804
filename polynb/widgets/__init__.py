"""Notebook widgets over the execution journal: the status line under a registering cell and the
``%polynb`` dashboard.

A widget reads the journal and nothing else. It knows no platform's wire format and not the
service, so the same widgets show executions of every platform, whoever wrote them.
"""
from .dashboard import Dashboard
from .display import with_text
from .status import CellStatus
from .updater import Updater

__all__ = ["CellStatus", "Dashboard", "Updater", "with_text"]
