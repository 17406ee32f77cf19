"""Drawing: matplotlib's object API on the Agg and SVG back ends, no pyplot, no network.

Every picture is a pure function of the figures it shows, so rendered bytes are cached
on those figures: the same map asked twice is drawn once. Drawing takes a lock, since
matplotlib's global settings (used here for SVG text and deterministic ids) are shared
by every thread of the process.
"""

from __future__ import annotations

import functools
import html
import io
import re
import threading
from datetime import date
from typing import Final, Literal

import matplotlib

matplotlib.use("Agg")

from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.ticker import MaxNLocator

from app.maps.outlines import OVERSEAS, Outline, outlines

Format = Literal["svg", "png"]
MEDIA_TYPES: Final = {"svg": "image/svg+xml", "png": "image/png"}
DPI: Final = 100
FRANCE_SIZE: Final = (8.0, 8.0)  # inches: 800 × 800 px
DEPARTMENT_SIZE: Final = (8.0, 8.0)  # 800 × 800 px
CHART_SIZE: Final = (9.0, 3.6)  # 900 × 360 px
CREDIT: Final = "Fonds : IGN, INSEE — Licence Ouverte"
WITHHELD_COLOUR: Final = "#d9d9d9"
NO_DATA_COLOUR: Final = "#f4f4f4"
PARIS_ZOOM: Final = ("75", "92", "93", "94")
EDGE: Final = "#555555"
MONTHS_FR: Final = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip

# (code, value, withheld) for every department shown.
Cell = tuple[str, float | None, bool]

_lock = threading.Lock()


def _save(figure: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def _draw(build: functools.partial[Figure], fmt: Format) -> bytes:
    with _lock, rc_context({"svg.fonttype": "none", "svg.hashsalt": "binome"}):
        return _save(build(), fmt)


def _label(value: float, share: bool) -> str:
    if share:
        return f"{value * 100:.0f} %".replace(".", ",")
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.2f}".replace(".", ",")


def _cell_text(name: str, value: float | None, withheld: bool, share: bool) -> str:
    if withheld:
        return f"{name} : moins de 5 (masqué)"
    if value is None:
        return f"{name} : aucune donnée"
    return f"{name} : {_label(value, share)}"


def _add_titles(svg: bytes, titles: dict[str, str]) -> bytes:
    """A ``<title>`` in each department's group: the name and figure, shown on hover."""
    text = svg.decode()

    def title(match: re.Match[str]) -> str:
        gid = match.group(1)
        label = titles.get(gid)
        return match.group(0) + (f"\n   <title>{html.escape(label)}</title>" if label else "")

    return re.sub(r'<g id="([a-z]+-[0-9AB]+)">', title, text).encode()


def _patch(outline: Outline, colour: str, withheld: bool, width: float = 0.4) -> PathPatch:
    patch = PathPatch(
        outline.path,
        facecolor=colour,
        edgecolor=EDGE,
        linewidth=width,
        hatch="////" if withheld else None,
    )
    patch.set_gid(f"dep-{outline.code}")
    return patch


def _frame(axes: Axes, bounds: tuple[float, float, float, float], margin: float) -> None:
    xmin, ymin, xmax, ymax = bounds
    axes.set_xlim(xmin - margin, xmax + margin)
    axes.set_ylim(ymin - margin, ymax + margin)
    axes.set_aspect("equal")
    axes.set_axis_off()


@functools.lru_cache(maxsize=128)
def france(
    cells: tuple[Cell, ...], title: str, share: bool, higher_is_better: bool, fmt: Format
) -> bytes:
    """A choropleth of every department, overseas ones as insets along the bottom."""
    values = [value for _, value, withheld in cells if value is not None and not withheld]
    top = max(values, default=0.0) or 1.0
    norm = Normalize(vmin=0.0, vmax=1.0 if share else top)
    cmap = colormaps["YlGn" if higher_is_better else "YlOrRd"]
    by_code = {code: (value, withheld) for code, value, withheld in cells}

    def _colour(value: float | None, withheld: bool) -> str:
        if withheld:
            return WITHHELD_COLOUR
        if value is None:
            return NO_DATA_COLOUR
        return str(to_hex(cmap(norm(value))))

    def build() -> Figure:
        figure = Figure(figsize=FRANCE_SIZE)
        figure.suptitle(title, fontsize=13, y=0.975)
        main = figure.add_axes((0.02, 0.17, 0.80, 0.76))
        shapes = outlines()
        metropole = [o for code, o in shapes.items() if code not in OVERSEAS]
        for outline in shapes.values():
            value, withheld = by_code.get(outline.code, (None, False))
            patch = _patch(outline, _colour(value, withheld), withheld)
            if outline.code in OVERSEAS:
                slot = OVERSEAS.index(outline.code)
                inset = figure.add_axes((0.02 + slot * 0.125, 0.03, 0.11, 0.11))
                inset.add_patch(patch)
                _frame(inset, outline.bounds, 0.05)
                inset.set_title(outline.code, fontsize=8, pad=2)
            else:
                main.add_patch(patch)
        bounds = [o.bounds for o in metropole]
        _frame(
            main,
            (
                min(b[0] for b in bounds),
                min(b[1] for b in bounds),
                max(b[2] for b in bounds),
                max(b[3] for b in bounds),
            ),
            0.2,
        )
        # The petite couronne is too small to read at this scale: drawn again, larger.
        paris = figure.add_axes((0.60, 0.80, 0.22, 0.14))
        for code in PARIS_ZOOM:
            value, withheld = by_code.get(code, (None, False))
            zoomed = _patch(shapes[code], _colour(value, withheld), withheld)
            zoomed.set_gid(f"zoom-{code}")
            paris.add_patch(zoomed)
        zoom_bounds = [shapes[code].bounds for code in PARIS_ZOOM]
        _frame(
            paris,
            (
                min(b[0] for b in zoom_bounds),
                min(b[1] for b in zoom_bounds),
                max(b[2] for b in zoom_bounds),
                max(b[3] for b in zoom_bounds),
            ),
            0.02,
        )
        paris.set_title("Paris et petite couronne", fontsize=7, pad=2)
        bar_axes = figure.add_axes((0.86, 0.35, 0.03, 0.45))
        bar = Colorbar(bar_axes, cmap=cmap, norm=norm)
        if share:
            bar.set_ticks([0, 0.25, 0.5, 0.75, 1])
            bar.set_ticklabels(["0 %", "25 %", "50 %", "75 %", "100 %"])
        figure.legend(
            handles=[
                Patch(
                    facecolor=WITHHELD_COLOUR,
                    edgecolor=EDGE,
                    hatch="////",
                    label="moins de 5 (masqué)",
                ),
                Patch(facecolor=NO_DATA_COLOUR, edgecolor=EDGE, label="aucune donnée"),
            ],
            loc="lower right",
            bbox_to_anchor=(0.99, 0.12),
            fontsize=8,
            frameon=False,
        )
        figure.text(0.99, 0.005, CREDIT, ha="right", va="bottom", fontsize=7, color="#666666")
        return figure

    rendered = _draw(functools.partial(build), fmt)
    if fmt == "svg":
        names = {code: o.name for code, o in outlines().items()}
        titles = {
            f"dep-{code}": _cell_text(
                f"{names[code]} ({code})", *by_code.get(code, (None, False)), share
            )
            for code in names
        }
        rendered = _add_titles(rendered, titles)
    return rendered


# (insee, name, lon, lat, waiting, waiting withheld, in reach, in reach withheld)
Point = tuple[str, str, float, float, float | None, bool, float | None, bool]


@functools.lru_cache(maxsize=128)
def department(code: str, points: tuple[Point, ...], fmt: Format) -> bytes:
    """One department's outline (its neighbours in grey), its communes as points: young
    people waiting (filled discs) and volunteers in reach (rings), sized by count."""
    shapes = outlines()
    outline = shapes[code]

    def build() -> Figure:
        figure = Figure(figsize=DEPARTMENT_SIZE)
        figure.suptitle(
            f"{outline.name} ({code}) : jeunes en attente et bénévoles à portée",
            fontsize=12,
            y=0.975,
        )
        axes = figure.add_axes((0.03, 0.08, 0.94, 0.84))
        xmin, ymin, xmax, ymax = outline.bounds
        margin = 0.08 * max(xmax - xmin, ymax - ymin)
        for other in shapes.values():
            if other.code == code or other.origin_latitude != outline.origin_latitude:
                continue
            oxmin, oymin, oxmax, oymax = other.bounds
            if (
                oxmax < xmin - margin
                or oxmin > xmax + margin
                or oymax < ymin - margin
                or oymin > ymax + margin
            ):
                continue
            neighbour = PathPatch(
                other.path, facecolor="#fafafa", edgecolor="#bbbbbb", linewidth=0.5
            )
            neighbour.set_gid(f"neighbour-{other.code}")
            axes.add_patch(neighbour)
        axes.add_patch(_patch(outline, "#ffffff", False, width=1.2))
        _frame(axes, outline.bounds, margin)
        counts = [v for p in points for v in (p[4], p[6]) if v is not None]
        scale = 900.0 / max(max(counts, default=1.0), 1.0)
        xy = [outline.project(lon, lat) for _, _, lon, lat, *_ in points]
        waiting = [(x, y, p[4]) for (x, y), p in zip(xy, points, strict=True) if p[4]]
        reach = [(x, y, p[6]) for (x, y), p in zip(xy, points, strict=True) if p[6]]
        hidden = [(x, y) for (x, y), p in zip(xy, points, strict=True) if p[5] or p[7]]
        if waiting:
            axes.scatter(
                [x for x, _, _ in waiting], [y for _, y, _ in waiting],
                s=[max(12.0, v * scale) for _, _, v in waiting],
                color="#e6550d", alpha=0.55, linewidths=0, label="jeunes en attente", zorder=3,
            )  # fmt: skip
        if reach:
            axes.scatter(
                [x for x, _, _ in reach], [y for _, y, _ in reach],
                s=[max(12.0, v * scale) for _, _, v in reach],
                facecolors="none", edgecolors="#3182bd", linewidths=1.2,
                label="bénévoles disponibles à portée", zorder=4,
            )  # fmt: skip
        if hidden:
            axes.scatter(
                [x for x, _ in hidden], [y for _, y in hidden], s=14, marker="x",
                color="#888888", linewidths=0.8, label="moins de 5 (masqué)", zorder=5,
            )  # fmt: skip
        if waiting or reach or hidden:
            axes.legend(loc="lower left", fontsize=8, frameon=True, markerscale=0.5)
        else:
            axes.text(
                0.5, 0.5, "aucune donnée", transform=axes.transAxes, ha="center", color="#666666"
            )
        figure.text(0.99, 0.005, CREDIT, ha="right", va="bottom", fontsize=7, color="#666666")
        return figure

    rendered = _draw(functools.partial(build), fmt)
    if fmt == "svg":
        rendered = _add_titles(rendered, {f"dep-{code}": f"{outline.name} ({code})"})
    return rendered


# (label, values per month; ``None`` where nothing is shown, with the withheld flags)
Line = tuple[str, tuple[float | None, ...], tuple[bool, ...]]


def month_label(month: date) -> str:
    return f"{MONTHS_FR[month.month - 1]} {month.year}"


@functools.lru_cache(maxsize=256)
def chart(title: str, months: tuple[date, ...], lines: tuple[Line, ...], fmt: Format) -> bytes:
    """Monthly series as lines; a withheld month is a gap with a grey cross on the axis."""

    def build() -> Figure:
        figure = Figure(figsize=CHART_SIZE)
        axes = figure.add_axes((0.07, 0.2, 0.62, 0.68))
        axes.set_title(title, fontsize=11, loc="left")
        x = list(range(len(months)))
        any_withheld = False
        for label, values, withheld in lines:
            axes.plot(
                x,
                [float("nan") if v is None else v for v in values],
                marker="o",
                markersize=3,
                label=label,
            )
            hidden = [i for i, flag in enumerate(withheld) if flag]
            if hidden:
                any_withheld = True
                axes.scatter(hidden, [0] * len(hidden), marker="x", color="#888888", s=18, zorder=5)
        if any_withheld:
            axes.scatter([], [], marker="x", color="#888888", label="moins de 5 (masqué)")
        axes.set_xticks(x, [month_label(m) for m in months], rotation=45, ha="right", fontsize=7)
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color="#eeeeee")
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        return figure

    return _draw(functools.partial(build), fmt)


def sizes() -> dict[str, tuple[int, int]]:
    """Pixel sizes of the PNG pictures, as documented."""
    return {
        name: (int(w * DPI), int(h * DPI))
        for name, (w, h) in {
            "france": FRANCE_SIZE,
            "department": DEPARTMENT_SIZE,
            "chart": CHART_SIZE,
        }.items()
    }
