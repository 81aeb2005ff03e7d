"""Geometry helpers: GeoJSON boundary validation and a per-process spatial index of each region's areas."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.strtree import STRtree
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


@dataclass(frozen=True)
class AreaIndex:
    """The areas of one region in an STRtree, at one `Region.geo_version`."""

    version: int
    tree: STRtree
    geometries: tuple
    area_ids: tuple[int, ...]
    depths: tuple[int, ...]
    # Each area's columns but its boundary, to hand out Area rows without another query.
    rows: dict[int, tuple]

    def area_id_at(self, lat: float, lon: float) -> int | None:
        """The deepest area whose boundary contains (or touches) the point."""
        point = Point(lon, lat)
        best: tuple[int, int] | None = None
        for i in self.tree.query(point, predicate="intersects"):
            depth, area_id = self.depths[i], self.area_ids[i]
            if best is None or depth > best[0] or (depth == best[0] and area_id < best[1]):
                best = (depth, area_id)
        return best[1] if best else None


_indexes: dict[int, AreaIndex] = {}
_lock = threading.Lock()


def area_index(region) -> AreaIndex:
    """The region's cached index, rebuilt when an area changed since (Region.geo_version moved on)."""
    cached = _indexes.get(region.pk)
    if cached is not None and cached.version >= region.geo_version:
        return cached
    with _lock:
        cached = _indexes.get(region.pk)
        if cached is not None and cached.version >= region.geo_version:
            return cached
        index = _build_index(region)
        _indexes[region.pk] = index
        return index


ROW_FIELDS = (
    "id",
    "region_id",
    "code",
    "name",
    "level",
    "parent_id",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "active",
)


def _build_index(region) -> AreaIndex:
    from backend.regions.models import AREA_DEPTH, Area, Region

    with_version = Region.objects.filter(pk=region.pk).values_list("geo_version", flat=True)
    version = with_version.first() or 0
    rows = list(Area.objects.filter(region_id=region.pk, active=True).values_list(*ROW_FIELDS, "boundary"))
    geometries = tuple(shape(row[-1]) for row in rows)
    for geometry in geometries:
        shapely.prepare(geometry)
    return AreaIndex(
        version=version,
        tree=STRtree(geometries),
        geometries=geometries,
        area_ids=tuple(row[0] for row in rows),
        depths=tuple(AREA_DEPTH[row[4]] for row in rows),
        rows={row[0]: row[:-1] for row in rows},
    )


def area_row(index: AreaIndex, area_id: int):
    """A fresh Area instance from the index, its boundary deferred (loaded from the database if read)."""
    from backend.regions.models import Area

    return Area.from_db("default", [f.attname for f in _row_fields(Area)], index.rows[area_id])


def _row_fields(model):
    return [model._meta.get_field(name.removesuffix("_id")) for name in ROW_FIELDS]


def forget_index(region_id: int | None = None) -> None:
    """Drop one region's cached index (None: every region's)."""
    with _lock:
        if region_id is None:
            _indexes.clear()
        else:
            _indexes.pop(region_id, None)
