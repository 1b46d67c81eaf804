"""How a view shows itself: its widget in a notebook, its text in a terminal or a stored notebook."""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets


def with_text(bundle: dict | None, text: str) -> dict:
    """A widget's display bundle whose ``text/plain`` reads like the widget, not ``HTML(value=...)``.

    Terminals (plain IPython, ``polynb serve``) show only that text, and nbclient stores it in the notebook.
    """
    return {**(bundle or {}), "text/plain": text}


class Displayable:
    """Lets ``display(view)`` and a cell's last expression show the view's widget, or its text in a terminal."""

    widget: widgets.DOMWidget

    def text(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return with_text(self.widget._repr_mimebundle_(**kwargs), self.text())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

