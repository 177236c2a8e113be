"""Bar charts drawn on the server as SVG: no chart script, nothing from a CDN.

A chart is worked out here (every bar's place and size, in the reader's words) and written by
the ``bar_chart`` macro of ``templates/_macros/charts.html`` as an ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` that says every figure, followed by the same figures as a table.
Text stays text, so the browser shapes Hindi as it does the rest of the page, and prints sharp.

Charts are horizontal: one row a category (a day, a station, an age), its label above its
bar, so a long Hindi station name has the whole width of a 360 px phone. Bars of several
series are stacked, each series a CSS class (``chart-series-<key>``) coloured by the stylesheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask_babel import gettext as _

from cplan import formats
from cplan.services.dashboard import GROUP_ORDER, DayCounts, StationCoverage
from cplan.web.templating import current_language, localised_name

# The drawing's own units (the SVG scales to the column, at most 32rem wide: see cplan.css).
WIDTH = 340
VALUE_ROOM = 44  # right of the longest bar, for its total
LABEL_HEIGHT = 16
BAR_HEIGHT = 14
ROW_GAP = 8
LEGEND_ROW = 20


@dataclass
class Segment:
    key: str
    label: str
    value: int
    x: float
    width: float


@dataclass
class Row:
    label: str
    total: int
    label_y: float
    bar_y: float
    segments: list[Segment]
    value_x: float
    values: list[int]  # per series, in the chart's order (the table's cells)
    href: str = ""


@dataclass
class LegendItem:
    key: str
    label: str
    y: float


@dataclass
class BarChart:
    """What the ``bar_chart`` macro draws."""

    id: str
    title: str
    description: str
    label_heading: str  # the table's first column
    series: list[tuple[str, str]]
    rows: list[Row]
    legend: list[LegendItem] = field(default_factory=list)
    width: int = WIDTH
    height: float = 0
    bar_height: int = BAR_HEIGHT


def bar_chart(
    chart_id: str,
    title: str,
    label_heading: str,
    series: list[tuple[str, str]],
    rows: list[tuple[str, dict[str, int], str]],
) -> BarChart:
    """A horizontal (stacked) bar chart of ``rows`` (label, {series key: value}, link or "")
    with ``series`` ((key, label), in stacking order); bars share one scale."""
    legend = []
    y = 0.0
    if len(series) > 1:
        for key, text in series:
            legend.append(LegendItem(key, text, y))
            y += LEGEND_ROW
        y += ROW_GAP / 2
    largest = max((sum(values.values()) for _label, values, _href in rows), default=0)
    scale = (WIDTH - VALUE_ROOM) / largest if largest else 0
    drawn = []
    for text, values, href in rows:
        x = 0.0
        segments = []
        for key, series_label in series:
            value = int(values.get(key, 0))
            width = value * scale
            if value:
                segments.append(Segment(key, series_label, value, round(x, 1), round(width, 1)))
            x += width
        drawn.append(
            Row(
                label=text,
                total=sum(int(values.get(key, 0)) for key, _ in series),
                label_y=y + LABEL_HEIGHT - 4,
                bar_y=y + LABEL_HEIGHT,
                segments=segments,
                value_x=round(x + 4, 1),
                values=[int(values.get(key, 0)) for key, _ in series],
                href=href,
            )
        )
        y += LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    description = "; ".join(
        f"{row.label}: "
        + (
            ", ".join(
                f"{label} {value}" for (_key, label), value in zip(series, row.values, strict=True)
            )
            if len(series) > 1
            else str(row.total)
        )
        for row in drawn
    )
    return BarChart(
        id=chart_id,
        title=title,
        description=description or _("No figures yet."),
        label_heading=label_heading,
        series=series,
        rows=drawn,
        legend=legend,
        height=max(y, LABEL_HEIGHT + BAR_HEIGHT),
    )


# ---- the home pages' charts -------------------------------------------------------------------


def approvals_chart(approvals: dict[str, int], labels: dict) -> BarChart:
    """Pending enrolments by how long they have waited."""
    return bar_chart(
        "chart-approvals",
        _("Enrolments waiting for approval, by how long they have waited"),
        _("Waiting"),
        [("count", _("Enrolments"))],
        [(str(labels[key]), {"count": count}, "") for key, count in approvals.items()],
    )


def coverage_chart(stations: list[StationCoverage], href=None) -> BarChart:
    """Villages and wards at the target and below it, per police station."""
    rows = []
    for row in stations:
        name = localised_name(row.station) if row.station else _("Not attached to a station")
        link = href(row.station) if href and row.station else ""
        rows.append((name, {"met": row.meeting, "below": row.inhabited - row.meeting}, link))
    return bar_chart(
        "chart-coverage",
        _("Villages and wards at the target, per police station"),
        _("Police station"),
        [("met", _("At target")), ("below", _("Below target"))],
        rows,
    )


def incidents_chart(days: list[DayCounts]) -> BarChart:
    """Incidents reported each day, by where they stand now."""
    labels = {
        "verifying": _("New or being verified"),
        "verdict": _("Verdict given"),
        "done": _("Action taken or closed"),
    }
    language = current_language()
    return bar_chart(
        "chart-incidents",
        _("Incidents reported each day of the last two weeks, by where they stand now"),
        _("Day"),
        [(key, labels[key]) for key in GROUP_ORDER],
        [(formats.date_text(day.day, language), day.counts, "") for day in days],
    )


def burn_down_chart(progress) -> BarChart:
    """A drive's tasks still to verify at the end of each day it has counted (the daily
    series of ``cplan.services.drives.progress_of``), starting from all its tasks."""
    language = current_language()
    rows = [(_("At the start"), {"remaining": progress.total.tasks}, "")]
    rows += [
        (formats.date_text(day.day, language), {"remaining": max(day.remaining, 0)}, "")
        for day in progress.daily
    ]
    return bar_chart(
        "chart-burn-down",
        _("Contacts still to verify at the end of each day of the drive"),
        _("Day"),
        [("remaining", _("Still to verify"))],
        rows,
    )


# ---- the village map ----------------------------------------------------------------------------

MAP_WIDTH = 340
MAP_PADDING = 8
POINT_RADIUS = 3.5


@dataclass
class MapPoint:
    href: str
    name: str
    x: float
    y: float
    level: str  # "met", "below" or "none" (no active contact)
    active: int


@dataclass
class VillageMap:
    unit: object
    width: int
    height: float
    points: list[MapPoint]
    unplaced: int  # places without coordinates, left off the map
    counts: dict[str, int]


def village_map(unit, places, target: int, href) -> VillageMap:
    """Each place with coordinates as a point, by an equirectangular projection fitted to the
    places (east-west distances shrunk by the cosine of the middle latitude, so a district
    keeps its shape), coloured by its active contacts against ``target``; ``href(place_id)``
    links each point."""
    placed = [p for p in places if p.latitude is not None and p.longitude is not None]
    counts = {"met": 0, "below": 0, "none": 0}
    if not placed:
        return VillageMap(unit, MAP_WIDTH, 0, [], len(places), counts)
    south, north = min(p.latitude for p in placed), max(p.latitude for p in placed)
    west, east = min(p.longitude for p in placed), max(p.longitude for p in placed)
    shrink = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * shrink, 1e-6)
    span_y = max(north - south, 1e-6)
    inner = MAP_WIDTH - 2 * MAP_PADDING
    scale = inner / span_x
    # A district longer north-south than east-west: at most 1.4 times as tall as wide.
    if span_y * scale > inner * 1.4:
        scale = inner * 1.4 / span_y
    language = current_language()
    points = []
    for place in placed:
        level = "none" if place.active == 0 else ("met" if place.active >= target else "below")
        counts[level] += 1
        name = place.name_hi if language == "hi" and place.name_hi else place.name_en
        points.append(
            MapPoint(
                href=href(place.place_id),
                name=name,
                x=round(MAP_PADDING + (place.longitude - west) * shrink * scale, 1),
                y=round(MAP_PADDING + (north - place.latitude) * scale, 1),
                level=level,
                active=place.active,
            )
        )
    height = round(2 * MAP_PADDING + span_y * scale, 1)
    return VillageMap(unit, MAP_WIDTH, height, points, len(places) - len(placed), counts)


def response_chart(rows, limit: int = 10) -> BarChart:
    """Median minutes from report to first call, the slowest districts first."""
    shown = [row for row in rows if row.first_call_minutes is not None][:limit]
    return bar_chart(
        "chart-response",
        _("Median minutes from report to first call, slowest districts, last 7 days"),
        _("District"),
        [("minutes", _("Minutes to first call"))],
        [(localised_name(row.district), {"minutes": row.first_call_minutes}, "") for row in shown],
    )
