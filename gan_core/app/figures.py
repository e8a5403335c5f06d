"""Line charts of logged series, drawn the same way on every page that shows how a model trains or trained."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

# Inside the plot's top-right corner, clear of the x-axis title: a horizontal legend below the axis sat on the
# title ("step") and, on the Train page, re-fitting margins around it was the largest part of a redraw.
LEGEND_INSIDE = {"x": 1.0, "xanchor": "right", "y": 1.0, "bgcolor": "rgba(255,255,255,0.6)"}


# Above the plot, one entry per line under the title: for charts drawn once, whose long names (a model's label)
# would cover the curves inside the plot, and whose curves may rise to any corner.
LEGEND_ABOVE = {"x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "bgcolor": "rgba(0,0,0,0)"}
LEGEND_LINE_PX = 22


def curves_figure(title: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]], log_y: bool = False,
                  height: int = 300, legend_above: bool = False) -> go.Figure:
    """One chart with a line per entry of `series` (name → (steps, values)), against the training step.

    Fixed margins (no auto-expansion): the Train page redraws its charts every second while a job trains, and
    its legend sits inside the plot. With `legend_above` the legend lists the names under the title instead,
    and the chart grows by a line per name so that the plot keeps its height."""
    figure = go.Figure()
    for name, (steps, values) in series.items():  # numpy arrays are quick to validate and sent as binary
        figure.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=name))
    legend_px = LEGEND_LINE_PX * len(series) if legend_above and len(series) > 1 else 0
    # Plotly centres a title in the top margin; with the legend there too, the title keeps to the very top.
    title_layout = {"text": title, "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}} if legend_px else title
    figure.update_layout(title=title_layout, height=height + legend_px, xaxis_title="step",
                         legend=LEGEND_ABOVE if legend_above else LEGEND_INSIDE,
                         margin={"l": 60, "r": 10, "t": 40 + legend_px, "b": 45, "autoexpand": False})
    if log_y:
        figure.update_yaxes(type="log")
    return figure


def share_bars(shares: Mapping[str, float], axis_title: str, count: int) -> go.Figure:
    """Horizontal bars, one per name, of a share between 0 and 1 of `count` items, each labelled "k of count"."""
    names = list(shares)
    figure = go.Figure(go.Bar(x=[shares[name] for name in names], y=names, orientation="h",
                              text=[f"{round(shares[name] * count)} of {count}" for name in names],
                              textposition="auto", hoverinfo="skip"))
    figure.update_layout(height=60 + 36 * len(names), margin={"l": 90, "r": 10, "t": 10, "b": 45},
                         xaxis={"range": [0, 1], "tickformat": ".0%", "title": axis_title},
                         yaxis={"autorange": "reversed"})
    return figure
