"""A per-process spatial index of each region's areas (an STRtree of their boundaries), rebuilt when the region's
areas change (Region.geo_version), and Area rows handed out from it without a query."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

from backend.regions.models import AREA_DEPTH, Area, Region


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
