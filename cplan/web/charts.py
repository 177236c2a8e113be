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


class _Projection:
    """An equirectangular projection fitted to a set of (latitude, longitude) points: east-west
    distances shrunk by the cosine of the middle latitude, so a district or the state keeps its
    shape, scaled to the map's width and at most 1.4 times as tall as wide."""

    def __init__(self, coordinates: list[tuple[float, float]]):
        self.south = min(lat for lat, _lon in coordinates)
        self.north = max(lat for lat, _lon in coordinates)
        self.west = min(lon for _lat, lon in coordinates)
        east = max(lon for _lat, lon in coordinates)
        self.shrink = math.cos(math.radians((self.south + self.north) / 2))
        span_x = max((east - self.west) * self.shrink, 1e-6)
        span_y = max(self.north - self.south, 1e-6)
        inner = MAP_WIDTH - 2 * MAP_PADDING
        self.scale = inner / span_x
        if span_y * self.scale > inner * 1.4:
            self.scale = inner * 1.4 / span_y
        self.height = round(2 * MAP_PADDING + span_y * self.scale, 1)

    def __call__(self, latitude: float, longitude: float) -> tuple[float, float]:
        return (
            round(MAP_PADDING + (longitude - self.west) * self.shrink * self.scale, 1),
            round(MAP_PADDING + (self.north - latitude) * self.scale, 1),
        )


def village_map(unit, places, target: int, href) -> VillageMap:
    """Each place with coordinates as a point (``_Projection`` fitted to the places), coloured
    by its active contacts against ``target``; ``href(place_id)`` links each point."""
    placed = [p for p in places if p.latitude is not None and p.longitude is not None]
    counts = {"met": 0, "below": 0, "none": 0}
    if not placed:
        return VillageMap(unit, MAP_WIDTH, 0, [], len(places), counts)
    project = _Projection([(p.latitude, p.longitude) for p in placed])
    language = current_language()
    points = []
    for place in placed:
        level = "none" if place.active == 0 else ("met" if place.active >= target else "below")
        counts[level] += 1
        name = place.name_hi if language == "hi" and place.name_hi else place.name_en
        x, y = project(place.latitude, place.longitude)
        points.append(
            MapPoint(
                href=href(place.place_id),
                name=name,
                x=x,
                y=y,
                level=level,
                active=place.active,
            )
        )
    return VillageMap(unit, MAP_WIDTH, project.height, points, len(places) - len(placed), counts)


# A district's colour on the state map: the share of its places at the target.
DISTRICT_MET_PERCENT = 75  # at least this: "met" (green)
DISTRICT_LOW_PERCENT = 25  # below this: "none" (red); between: "below" (amber)


@dataclass
class DistrictMapPoint:
    href: str
    name: str
    x: float
    y: float
    level: str  # "met", "below", "none"; "off": no election there (sensitivity map)
    text: str  # the point's tooltip and the description's entry: the figures in words


@dataclass
class DistrictMap:
    """What the state map draws: each district at the centroid of its places."""

    unit: object
    by: str  # "coverage" or "sensitive"
    width: int
    height: float
    points: list[DistrictMapPoint]
    unplaced: list  # districts none of whose places has coordinates
    counts: dict[str, int]
    title: str
    description: str


def district_level(meeting: int, total: int) -> str:
    """A district's colour: most of its places at the target, some, or few (or none)."""
    percent = 100 * meeting / total if total else 0
    if percent >= DISTRICT_MET_PERCENT:
        return "met"
    return "below" if percent >= DISTRICT_LOW_PERCENT else "none"


def district_map(unit, districts, by: str, href) -> DistrictMap:
    """The districts of ``districts`` (``dashboard.DistrictPoint``) as points at the centroid of
    their places, coloured by the share of their inhabited places at the target (``by`` =
    "coverage") or of their graded sensitive places at the target ("sensitive"; a district with
    no election on is grey); ``href(district)`` links each point."""
    placed = [p for p in districts if p.latitude is not None and p.longitude is not None]
    counts = {"met": 0, "below": 0, "none": 0, "off": 0}
    points = []
    project = _Projection([(p.latitude, p.longitude) for p in placed]) if placed else None
    for point in placed:
        name = localised_name(point.district)
        if by == "sensitive":
            if point.sensitive is None:
                level, text = "off", _("%(name)s: no election on", name=name)
            else:
                level = district_level(point.sensitive_meeting, point.sensitive)
                text = _(
                    "%(name)s: %(meeting)d of %(total)d sensitive places at the target",
                    name=name,
                    meeting=point.sensitive_meeting,
                    total=point.sensitive,
                )
        else:
            level = district_level(point.meeting, point.inhabited)
            text = _(
                "%(name)s: %(meeting)d of %(total)d villages and wards at the target "
                "(%(percent)d%%)",
                name=name,
                meeting=point.meeting,
                total=point.inhabited,
                percent=point.percent,
            )
        counts[level] += 1
        x, y = project(point.latitude, point.longitude)
        points.append(DistrictMapPoint(href(point.district), name, x, y, level, text))
    if by == "sensitive":
        title = _(
            "Districts of %(unit)s by their sensitive places at the contact target; each point "
            "opens the district's map.",
            unit=localised_name(unit),
        )
    else:
        title = _(
            "Districts of %(unit)s by their villages and wards at the contact target; each "
            "point opens the district's map.",
            unit=localised_name(unit),
        )
    return DistrictMap(
        unit=unit,
        by=by,
        width=MAP_WIDTH,
        height=project.height if project else 0,
        points=points,
        unplaced=[p.district for p in districts if p.latitude is None or p.longitude is None],
        counts=counts,
        title=title,
        description="; ".join(point.text for point in points) or _("No figures yet."),
    )


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
