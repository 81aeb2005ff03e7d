"""Pure geometry: GeoJSON boundaries validated and normalised, points checked against the country's bounds. The
spatial index of a region's areas, which reads the database, is backend.regions.area_index."""

from __future__ import annotations

import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.validation import explain_validity

# Seven decimals of a degree is about a centimetre: finer coordinates are noise, not precision.
COORDINATE_DECIMALS = 7
MAX_BOUNDARY_VERTICES = 200_000


class BoundaryError(ValueError):
    pass


def _inside_bounds(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    bx0, by0, bx1, by1 = settings.GEO_BOUNDS
    return bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1


def parse_boundary(geojson) -> Polygon | MultiPolygon:
    """A GeoJSON geometry as a valid shapely (Multi)Polygon, or BoundaryError saying what is wrong."""
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise BoundaryError(_("The boundary must be a GeoJSON geometry object with a type."))
    if geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(
            _("The boundary must be a Polygon or MultiPolygon, not %(type)s.") % {"type": geojson.get("type")}
        )
    try:
        geometry = shape(geojson)
    except Exception as exc:
        raise BoundaryError(_("The boundary's coordinates are malformed: %(error)s") % {"error": exc}) from exc
    if geometry.is_empty:
        raise BoundaryError(_("The boundary is empty."))
    if shapely.get_num_coordinates(geometry) > MAX_BOUNDARY_VERTICES:
        raise BoundaryError(_("The boundary has too many vertices; simplify it first."))
    if not shapely.is_valid(geometry):
        raise BoundaryError(
            _("The boundary is not a valid polygon: %(reason)s") % {"reason": explain_validity(geometry)}
        )
    if not _inside_bounds(*geometry.bounds):
        raise BoundaryError(
            _("The boundary lies outside Indonesia. GeoJSON lists longitude first, then latitude: are they swapped?")
        )
    return geometry


def normalise_geojson(geometry: Polygon | MultiPolygon) -> dict:
    """GeoJSON with coordinates rounded to ~1 cm, as stored and served."""
    rounded = shapely.set_precision(geometry, 10**-COORDINATE_DECIMALS)
    data = mapping(rounded)
    return {"type": data["type"], "coordinates": _lists(data["coordinates"])}


def _lists(value):
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def valid_point(lat: float, lon: float) -> bool:
    return _inside_bounds(lon, lat, lon, lat)
