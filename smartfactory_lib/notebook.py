"""Notebook conveniences: figures that render everywhere the book is read.

:func:`setup` is the first call of every chapter. It registers the ``book``
plotly renderer, which writes each figure twice: as plotly's own JSON (which
JupyterLab draws interactively) and as an HTML fragment that expects
``plotly.js`` to be on the page already. The built book ships ``plotly.js`` in
its ``_static`` folder, so its figures render without network; the default
renderers would either fetch it from a CDN or leave the figure blank.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

__all__ = ["BookRenderer", "setup"]


class BookRenderer(MimetypeRenderer):
    """Render a figure as an HTML fragment that uses the page's ``plotly.js``."""

    def to_mimebundle(self, fig_dict: Any) -> dict[str, Any]:
        html = pio.to_html(
            fig_dict,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config={"displaylogo": False, "responsive": True},
            validate=False,
        )
        return {"text/html": html}


def setup(log_level: int = logging.WARNING) -> None:
    """Prepare a notebook: plotly renderer, figure template and logging.

    Parameters
    ----------
    log_level : int, default logging.WARNING
        Level of the library's log records shown under each cell.
    """
    pio.renderers["book"] = BookRenderer()
    if "google.colab" in sys.modules:
        pio.renderers.default = "colab"
    else:
        pio.renderers.default = "plotly_mimetype+book"
    pio.templates.default = "plotly_white"
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("smartfactory_lib").setLevel(log_level)
