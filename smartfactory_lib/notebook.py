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

__all__ = ["BookRenderer", "architecture_figure", "setup"]


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


_ARCHITECTURE = (
    # (column, row, title, what runs here, chapter)
    (0, 1, "Machines", "simulator: 7 signals,<br>3 failure modes", "1"),
    (1, 1, "Faults", "sensor, clock and<br>transport faults", "2"),
    (2, 1, "MQTT broker", "mosquitto, TLS,<br>per-device ACL", "3"),
    (3, 1, "IoT rule", "local stand-in:<br>topic filter + SQL", "4"),
    (4, 1, "Kinesis", "shards partitioned<br>by machine", "4"),
    (5, 1, "Lambda", "validate, dedupe,<br>score, write", "4"),
    (6, 2, "S3 data lake", "raw, curated Parquet,<br>quarantine", "5"),
    (6, 1, "DynamoDB", "latest state,<br>alerts with TTL", "4"),
    (6, 0, "SNS", "anomaly alerts", "4"),
    (7, 2, "Athena", "local stand-in:<br>DuckDB SQL", "5"),
    (7, 1, "Models", "training, SHAP, ONNX;<br>Lambda loads it", "6-9"),
    (7, 0, "Operations", "SLOs, alarms,<br>dashboard", "12-14"),
    (3, 0, "Governance", "IAM matrix, KMS zones,<br>audit trail, CI/CD", "10-11"),
)
_EDGES = (
    ("Machines", "Faults"),
    ("Faults", "MQTT broker"),
    ("MQTT broker", "IoT rule"),
    ("IoT rule", "Kinesis"),
    ("Kinesis", "Lambda"),
    ("Lambda", "S3 data lake"),
    ("Lambda", "DynamoDB"),
    ("Lambda", "SNS"),
    ("S3 data lake", "Athena"),
    ("S3 data lake", "Models"),
    ("SNS", "Operations"),
)


def architecture_figure() -> Any:
    """Return the pipeline of the whole book as a plotly figure.

    Each box is a stage, labelled with what runs there and the chapter that
    builds it; arrows follow the readings. Drawn with plotly shapes, so it
    renders in the static book without network or Graphviz.
    """
    import plotly.graph_objects as go

    boxes = {title: (x * 1.6, y * 1.3) for x, y, title, _, _ in _ARCHITECTURE}
    figure = go.Figure()
    for _, _, title, detail, chapter in _ARCHITECTURE:
        cx, cy = boxes[title]
        figure.add_shape(
            type="rect",
            x0=cx - 0.7,
            x1=cx + 0.7,
            y0=cy - 0.45,
            y1=cy + 0.45,
            line={"color": "#1f4e79", "width": 1.5},
            fillcolor="#dbe9f6" if title != "Governance" else "#f6e7db",
        )
        figure.add_annotation(
            x=cx,
            y=cy,
            text=f"<b>{title}</b><br>{detail}<br><i>ch. {chapter}</i>",
            showarrow=False,
            font={"size": 10},
        )
    for start, end in _EDGES:
        (x0, y0), (x1, y1) = boxes[start], boxes[end]
        figure.add_annotation(
            x=x1 - 0.7 * (x1 > x0) + 0.7 * (x1 < x0),
            y=y1 + 0.45 * (y1 < y0) - 0.45 * (y1 > y0) * (x1 == x0),
            ax=x0 + 0.7 * (x1 > x0) - 0.7 * (x1 < x0),
            ay=y0,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=1.3,
            arrowcolor="#555",
            text="",
        )
    figure.update_xaxes(visible=False, range=[-0.9, 12.1])
    figure.update_yaxes(visible=False, range=[-0.7, 3.3], scaleanchor="x")
    figure.update_layout(
        height=360,
        margin={"l": 5, "r": 5, "t": 30, "b": 5},
        title="From sensor to decision: the pipeline this book builds",
        plot_bgcolor="white",
    )
    return figure
