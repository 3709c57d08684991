"""Write the tier map's country shapes (`src/tiergate/service/web/static/world.json`) from
Natural Earth's 1:50m Admin 0 countries, as the TopoJSON of the npm package `world-atlas`
2.0.2 (`countries-50m.json`; Natural Earth is in the public domain).

Usage: python scripts/world_map.py countries-50m.json > src/tiergate/service/web/static/world.json

Each country, by its ISO 3166-1 alpha-2 code, becomes one SVG path in an equirectangular
projection, 4 units a degree, from 180 W to 180 E and from 84 N to 57 S (Antarctica is left
out), its points rounded to a quarter degree; a ring crossing the 180th meridian is drawn up
to the map's edge. A country too small to keep a shape at that
size (Singapore, Bahrain, Macau) becomes a dot at its mean point, so it can still be seen and
clicked.
"""

from __future__ import annotations

import json
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pycountry

SCALE = 4  # units a degree
NORTH, SOUTH = 84.0, -57.0
SOURCE = (
    "Natural Earth 1:50m Admin 0 countries (public domain), as the TopoJSON of the npm "
    "package world-atlas 2.0.2 (countries-50m.json)"
)
# Natural Earth's codes for places ISO 3166-1 gives no numeric code (Kosovo, N. Cyprus).
NO_CODE = {"Kosovo": "XK"}


def _arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The topology's arcs as longitude and latitude, their deltas added up."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    found = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        found.append(points)
    return found


def _ring(arcs: list[list[tuple[float, float]]], indices: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def _projected(point: tuple[float, float]) -> tuple[int, int]:
    lon, lat = point
    lat = max(SOUTH, min(NORTH, lat))
    return round((lon + 180) * SCALE), round((NORTH - lat) * SCALE)


def _unwrapped(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring that crosses the 180th meridian (eastern Russia, Fiji) with its western
    longitudes taken past 180 E, so that it does not cross the whole map: the part past the
    map's edge is not drawn."""
    if all(abs(b[0] - a[0]) <= 180 for a, b in pairwise(ring)):
        return ring
    return [(lon + 360 if lon < 0 else lon, lat) for lon, lat in ring]


def _path(ring: list[tuple[float, float]]) -> str | None:
    """A closed ring as SVG path data (relative moves), or None where it collapses."""
    points = [_projected(p) for p in _unwrapped(ring)]
    kept = [points[0]] + [b for a, b in pairwise(points) if a != b]
    if len(set(kept)) < 3:
        return None
    start = kept[0]
    steps = " ".join(f"{b[0] - a[0]} {b[1] - a[1]}" for a, b in pairwise(kept))
    return f"M{start[0]} {start[1]}l{steps}z"


def _code(geometry: dict[str, Any]) -> str | None:
    name = geometry.get("properties", {}).get("name", "")
    if name in NO_CODE:
        return NO_CODE[name]
    number = geometry.get("id")
    found = pycountry.countries.get(numeric=number) if number else None
    return found.alpha_2 if found is not None else None


def main(path: Path) -> dict[str, Any]:
    topology = json.loads(path.read_text(encoding="utf-8"))
    arcs = _arcs(topology)
    shapes: dict[str, str] = {}
    dots: dict[str, tuple[int, int]] = {}
    names: dict[str, str] = {}
    left_out = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = _code(geometry)
        name = geometry.get("properties", {}).get("name", "")
        if code is None or code == "AQ":
            left_out.append(name)
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [_ring(arcs, ring) for polygon in polygons for ring in polygon]
        parts = [p for p in (_path(ring) for ring in rings) if p is not None]
        names[code] = name
        if parts:
            shapes[code] = shapes.get(code, "") + "".join(parts)
        elif code not in shapes:
            every = [point for ring in rings for point in ring]
            mean = (
                sum(p[0] for p in every) / len(every),
                sum(p[1] for p in every) / len(every),
            )
            dots[code] = _projected(mean)
    return {
        "source": SOURCE,
        "projection": f"equirectangular, {SCALE} units a degree, {NORTH:g} N to {-SOUTH:g} S",
        "width": 360 * SCALE,
        "height": round((NORTH - SOUTH) * SCALE),
        "left_out": sorted(left_out),
        "names": dict(sorted(names.items())),
        "shapes": dict(sorted(shapes.items())),
        "dots": {code: list(point) for code, point in sorted(dots.items())},
    }


if __name__ == "__main__":
    json.dump(main(Path(sys.argv[1])), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
