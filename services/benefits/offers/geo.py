"""Distances on the sphere and the bounding box that lets an index find nearby merchants."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class BoundingBox:
    lat_min: float
    lat_max: float
    # One (lng_min, lng_max) range, or two when the box crosses the antimeridian.
    lng_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lng: float, radius_m: float) -> BoundingBox:
    """The smallest lat/lng box that contains every point within radius_m (slightly generous)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.001
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    # Near a pole the circle covers every longitude.
    if lat_max >= 90.0 or lat_min <= -90.0:
        return BoundingBox(lat_min, lat_max, ((-180.0, 180.0),))
    # Widest longitude span is at the latitude of the box edge nearest the pole.
    widest = max(abs(lat_min), abs(lat_max))
    cos_lat = math.cos(math.radians(widest))
    dlng = 180.0 if cos_lat <= 1e-9 else min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)) * 1.001)
    if dlng >= 180.0:
        return BoundingBox(lat_min, lat_max, ((-180.0, 180.0),))
    lo, hi = lng - dlng, lng + dlng
    if lo < -180.0:
        return BoundingBox(lat_min, lat_max, ((lo + 360.0, 180.0), (-180.0, hi)))
    if hi > 180.0:
        return BoundingBox(lat_min, lat_max, ((lo, 180.0), (-180.0, hi - 360.0)))
    return BoundingBox(lat_min, lat_max, ((lo, hi),))
