"""Load the demo data: Kabupaten Musi Banyuasin (16.06) and Kota Parepare (73.72), with areas, OPDs, staff and a
resident. Safe to run again: rows are matched on their natural keys and updated, never duplicated.

Boundaries are synthetic: a jittered grid over each region's real extent, so neighbouring kecamatan share edges and
never overlap; two kelurahan split Sekayu so that "the most specific area" has something to show.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from shapely.geometry import Polygon, box, mapping, shape

from backend.accounts.actor import Actor
from backend.accounts.models import Membership, Role, User
from backend.complaints.models import ComplaintCategory, RoutingRule
from backend.permits.catalogue import TypeEdition, save_permit_type
from backend.permits.models import PermitType
from backend.regions.models import Agency, Area, AreaLevel, DayOff, DayOffKind, Region, RegionKind, RegionTimezone
from backend.work.models import ReplyTemplate

DEMO_PASSWORD = "simpul-demo-2026"
DEMO_RESIDENT_PHONE = "+6281200000001"

MUBA_KECAMATAN = [
    ("16.06.01", "Sekayu"),
    ("16.06.02", "Lais"),
    ("16.06.03", "Sungai Keruh"),
    ("16.06.04", "Babat Toman"),
    ("16.06.05", "Sanga Desa"),
    ("16.06.06", "Batanghari Leko"),
    ("16.06.07", "Plakat Tinggi"),
    ("16.06.08", "Lawang Wetan"),
    ("16.06.09", "Sungai Lilin"),
]
MUBA_AGENCIES = [
    ("diskominfo", "DISKOMINFO", "Dinas Komunikasi dan Informatika"),
    ("dpmptsp", "DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"),
    ("dpupr", "DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("dishub", "DISHUB", "Dinas Perhubungan"),
    ("dlh", "DLH", "Dinas Lingkungan Hidup"),
    ("dinkes", "DINKES", "Dinas Kesehatan"),
    ("disdik", "DISDIK", "Dinas Pendidikan"),
    ("satpolpp", "SATPOL PP", "Satuan Polisi Pamong Praja"),
    ("bpbd", "BPBD", "Badan Penanggulangan Bencana Daerah"),
    ("disperkim", "DISPERKIM", "Dinas Perumahan dan Kawasan Permukiman"),
]
PAREPARE_KECAMATAN = [
    ("73.72.01", "Bacukiki"),
    ("73.72.02", "Ujung"),
    ("73.72.03", "Soreang"),
    ("73.72.04", "Bacukiki Barat"),
]
PAREPARE_AGENCIES = [
    ("diskominfo", "DISKOMINFO", "Dinas Komunikasi, Informatika, Statistik dan Persandian"),
    ("dpupr", "DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("dlh", "DLH", "Dinas Lingkungan Hidup"),
]

# (code, name id, name en, icon, SLA value, SLA unit, children) — groups have children and no SLA of their own.
ROAD_SCHEMA = {
    "type": "object",
    "properties": {
        "severity": {
            "type": "string",
            "enum": ["ringan", "sedang", "berat"],
            "title": "Tingkat kerusakan",
            "title_en": "How bad is the damage",
        },
        "lane_blocked": {"type": "boolean", "title": "Menutup jalur", "title_en": "Blocks the lane"},
    },
    "required": ["severity"],
    "additionalProperties": False,
}
MUBA_CATEGORIES = [
    (
        "infrastruktur",
        "Infrastruktur",
        "Infrastructure",
        "road",
        [
            ("jalan-rusak", "Jalan rusak", "Damaged road", "pothole", 5, "days", ROAD_SCHEMA),
            ("lampu-jalan", "Lampu jalan mati", "Street light out", "streetlight", 3, "days", {}),
            ("drainase", "Saluran air tersumbat", "Blocked drain", "drain", 5, "days", {}),
        ],
    ),
    (
        "lingkungan",
        "Lingkungan",
        "Environment",
        "leaf",
        [
            ("sampah", "Sampah menumpuk", "Uncollected rubbish", "trash", 16, "hours", {}),
            ("pencemaran", "Pencemaran", "Pollution", "factory", 5, "days", {}),
        ],
    ),
    (
        "ketertiban",
        "Ketertiban umum",
        "Public order",
        "shield",
        [
            ("pkl-liar", "Pedagang kaki lima liar", "Unlicensed street vendors", "cart", 5, "days", {}),
            ("parkir-liar", "Parkir liar", "Illegal parking", "parking", 3, "days", {}),
        ],
    ),
    (
        "bencana",
        "Bencana",
        "Disaster",
        "warning",
        [
            ("banjir", "Banjir", "Flood", "flood", 4, "hours", {}),
            ("pohon-tumbang", "Pohon tumbang", "Fallen tree", "tree", 4, "hours", {}),
        ],
    ),
]
PAREPARE_CATEGORIES = [
    (
        "infrastruktur",
        "Infrastruktur",
        "Infrastructure",
        "road",
        [
            ("jalan-rusak", "Jalan rusak", "Damaged road", "pothole", 5, "days", ROAD_SCHEMA),
        ],
    ),
    (
        "lingkungan",
        "Lingkungan",
        "Environment",
        "leaf",
        [
            ("sampah", "Sampah menumpuk", "Uncollected rubbish", "trash", 16, "hours", {}),
        ],
    ),
]
# (order, category or group code, area code or None, agency code, note): specific rules get lower numbers.
MUBA_RULES = [
    (5, "lampu-jalan", None, "dishub", "Penerangan jalan umum dikelola Dishub"),
    (8, "drainase", "16.06.01", "disperkim", "Drainase kawasan perkotaan Sekayu"),
    (10, "infrastruktur", None, "dpupr", ""),
    (20, "lingkungan", None, "dlh", ""),
    (25, "parkir-liar", None, "dishub", ""),
    (30, "ketertiban", None, "satpolpp", ""),
    (40, "bencana", None, "bpbd", ""),
]
PAREPARE_RULES = [(10, "infrastruktur", None, "dpupr", ""), (20, "lingkungan", None, "dlh", "")]

# DPUPR's ready answers (title, text), offered in the console's reply form.
MUBA_REPLY_TEMPLATES = [
    (
        "Survei lokasi",
        "Terima kasih atas laporan Anda. Tim kami akan meninjau lokasi dalam 2 hari kerja dan memberi kabar di sini.",
    ),
    (
        "Masuk jadwal perbaikan",
        "Kerusakan ini sudah masuk jadwal perbaikan rutin. Kami akan memberi kabar saat pekerjaan dimulai.",
    ),
]

# (username, full name, agency code or None for region admin, role)
MUBA_STAFF = [
    ("admin.muba", "Rahmat Hidayat", None, Role.REGION_ADMIN),
    ("kominfo.muba", "Siti Aminah", "diskominfo", Role.AGENCY_STAFF),
    ("pupr.kabid", "Ir. Hendra Wijaya", "dpupr", Role.AGENCY_SUPERVISOR),
    ("pupr.staf", "Dewi Lestari", "dpupr", Role.AGENCY_STAFF),
    ("dishub.staf", "Agus Salim", "dishub", Role.AGENCY_STAFF),
    ("ptsp.staf", "Nurul Fitri", "dpmptsp", Role.AGENCY_STAFF),
    ("ptsp.kadis", "Drs. Yudi Pratama", "dpmptsp", Role.AGENCY_SUPERVISOR),
    ("dlh.staf", "Maya Sari", "dlh", Role.AGENCY_STAFF),
]

# The demo permit: building approval (Persetujuan Bangunan Gedung), filed at DPMPTSP, reviewed by DPUPR and DLH.
PBG_FORM = {
    "type": "object",
    "required": ["alamat_bangunan", "fungsi", "luas_bangunan", "jumlah_lantai"],
    "properties": {
        "alamat_bangunan": {
            "type": "string",
            "title": "Alamat bangunan",
            "title_en": "Address of the building",
            "minLength": 10,
            "maxLength": 300,
        },
        "fungsi": {
            "type": "string",
            "title": "Fungsi bangunan",
            "title_en": "Use of the building",
            "enum": ["hunian", "usaha", "sosial_budaya"],
        },
        "luas_bangunan": {
            "type": "number",
            "title": "Luas bangunan (m²)",
            "title_en": "Floor area (m²)",
            "exclusiveMinimum": 0,
            "maximum": 100000,
        },
        "jumlah_lantai": {
            "type": "integer",
            "title": "Jumlah lantai",
            "title_en": "Number of floors",
            "minimum": 1,
            "maximum": 50,
        },
    },
    "additionalProperties": False,
}
MB = 1024 * 1024
PBG_DOCUMENTS = [
    {"code": "ktp", "name_id": "KTP pemohon", "name_en": "Applicant's ID card", "types": ["jpeg", "png", "pdf"],
     "max_bytes": 2 * MB, "required": True, "many": False, "personal": True},
    {"code": "gambar_teknis", "name_id": "Gambar teknis bangunan", "name_en": "Technical drawings",
     "types": ["pdf"], "max_bytes": 10 * MB, "required": True, "many": True},
    {"code": "bukti_tanah", "name_id": "Bukti kepemilikan tanah", "name_en": "Proof of land ownership",
     "types": ["pdf", "jpeg"], "max_bytes": 5 * MB, "required": True, "many": False},
    {"code": "foto_lokasi", "name_id": "Foto lokasi", "name_en": "Photos of the site", "types": ["jpeg", "png"],
     "max_bytes": 5 * MB, "required": False, "many": True},
]  # fmt: skip
PBG_FEE = {"kind": "formula", "expression": "max(150000, luas_bangunan * 12500 * (1 + (jumlah_lantai - 1) * 0.25))"}
PAREPARE_STAFF = [
    ("admin.parepare", "Andi Makkasau", None, Role.REGION_ADMIN),
    ("pupr.parepare", "Sitti Rahmawati", "dpupr", Role.AGENCY_STAFF),
]


def grid_cells(west, south, east, north, columns, rows, seed) -> list[Polygon]:
    """A columns × rows grid over the box, inner vertices jittered: cells share every edge, so none overlap."""
    rng = random.Random(seed)
    step_x, step_y = (east - west) / columns, (north - south) / rows
    vertices = {}
    for i in range(columns + 1):
        for j in range(rows + 1):
            x, y = west + i * step_x, south + j * step_y
            if 0 < i < columns:
                x += rng.uniform(-0.2, 0.2) * step_x
            if 0 < j < rows:
                y += rng.uniform(-0.2, 0.2) * step_y
            vertices[i, j] = (round(x, 5), round(y, 5))
    cells = []
    for j in reversed(range(rows)):
        for i in range(columns):
            ring = [vertices[i, j], vertices[i + 1, j], vertices[i + 1, j + 1], vertices[i, j + 1], vertices[i, j]]
            cells.append(Polygon(ring))
    return cells


class Command(BaseCommand):
    help = "Load (or refresh) the demo regions, areas, agencies, staff and resident. Idempotent."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates accounts with a published password; it refuses to run in production.")
        with transaction.atomic():
            self.superuser()
            muba = self.region(
                "16.06", "Kabupaten Musi Banyuasin", "musi-banyuasin", RegionKind.KABUPATEN, RegionTimezone.WIB
            )
            self.areas(muba, MUBA_KECAMATAN, grid_cells(103.25, -3.15, 104.75, -1.65, 3, 3, seed=1606))
            self.kelurahan_of_sekayu(muba)
            self.agencies(muba, MUBA_AGENCIES, triage="diskominfo")
            self.staff(muba, MUBA_STAFF)
            self.categories(muba, MUBA_CATEGORIES)
            self.rules(muba, MUBA_RULES)
            self.permit_types(muba)
            self.reply_templates(muba, "dpupr", MUBA_REPLY_TEMPLATES)
            DayOff.objects.update_or_create(
                region=muba,
                date=dt.date(2026, 11, 30),
                defaults={"name": "Hari Jadi Kabupaten Musi Banyuasin (demo)", "kind": DayOffKind.LOCAL_HOLIDAY},
            )

            parepare = self.region("73.72", "Kota Parepare", "parepare", RegionKind.KOTA, RegionTimezone.WITA)
            self.areas(parepare, PAREPARE_KECAMATAN, grid_cells(119.60, -4.10, 119.74, -3.96, 2, 2, seed=7372))
            self.agencies(parepare, PAREPARE_AGENCIES, triage="diskominfo")
            self.staff(parepare, PAREPARE_STAFF)
            self.categories(parepare, PAREPARE_CATEGORIES)
            self.rules(parepare, PAREPARE_RULES)

            Region.objects.filter(pk__in=[muba.pk, parepare.pk]).update(
                geo_version=F("geo_version") + 1,
                calendar_version=F("calendar_version") + 1,
                config_version=F("config_version") + 1,
            )
            self.resident()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Staff sign in with password {DEMO_PASSWORD!r} (e.g. pupr.staf, admin.muba; "
                f"superuser 'admin' for /admin/); the demo resident is {DEMO_RESIDENT_PHONE} (code in the log)."
            )
        )

    def region(self, code, name, slug, kind, timezone) -> Region:
        region, _created = Region.objects.update_or_create(
            code=code, defaults={"name": name, "slug": slug, "kind": kind, "timezone": timezone, "active": True}
        )
        return region

    def areas(self, region, kecamatan, cells) -> None:
        for (code, name), cell in zip(kecamatan, cells, strict=True):
            self.area(region, code, name, AreaLevel.KECAMATAN, cell, parent=None)

    def area(self, region, code, name, level, outline, parent) -> Area:
        area = Area.objects.filter(region=region, code=code).first() or Area(region=region, code=code)
        area.name, area.level, area.parent, area.active = name, level, parent, True
        area.boundary = mapping(outline)
        area.full_clean()  # validates the boundary and derives its bounding box
        area.save()
        return area

    def kelurahan_of_sekayu(self, region) -> None:
        sekayu = Area.objects.get(region=region, code="16.06.01")
        outline = shape(sekayu.boundary)
        west, south, east, north = outline.bounds
        middle = (west + east) / 2
        halves = [
            outline.intersection(box(west, south, middle, north)),
            outline.intersection(box(middle, south, east, north)),
        ]
        for (code, name), half in zip(
            [("16.06.01.1001", "Serasan Jaya"), ("16.06.01.1002", "Balai Agung")], halves, strict=True
        ):
            self.area(region, code, name, AreaLevel.KELURAHAN, half, parent=sekayu)

    def reply_templates(self, region, agency_code, rows) -> None:
        agency = Agency.objects.get(region=region, code=agency_code)
        for title, text in rows:
            ReplyTemplate.objects.update_or_create(
                agency=agency, title=title, defaults={"region": region, "text": text, "active": True}
            )

    def agencies(self, region, rows, triage) -> None:
        for code, short_name, name in rows:
            Agency.objects.update_or_create(
                region=region,
                code=code,
                defaults={
                    "short_name": short_name,
                    "name": name,
                    "email": f"{code}@{region.slug}.go.id.example",
                    "active": True,
                },
            )
        region.triage_agency = Agency.objects.get(region=region, code=triage)
        region.save(update_fields=["triage_agency"])

    def categories(self, region, groups) -> None:
        for order, (code, name_id, name_en, icon, children) in enumerate(groups):
            group, _created = ComplaintCategory.objects.update_or_create(
                region=region,
                code=code,
                defaults={"name_id": name_id, "name_en": name_en, "icon": icon, "parent": None, "sort_order": order},
            )
            for child_order, (c_code, c_id, c_en, c_icon, sla, unit, schema) in enumerate(children):
                ComplaintCategory.objects.update_or_create(
                    region=region,
                    code=c_code,
                    defaults={
                        "name_id": c_id,
                        "name_en": c_en,
                        "icon": c_icon,
                        "parent": group,
                        "sla_value": sla,
                        "sla_unit": unit,
                        "extra_schema": schema,
                        "sort_order": child_order,
                        "active": True,
                    },
                )

    def rules(self, region, rows) -> None:
        for order, category_code, area_code, agency_code, note in rows:
            RoutingRule.objects.update_or_create(
                region=region,
                order=order,
                defaults={
                    "category": ComplaintCategory.objects.get(region=region, code=category_code),
                    "area": Area.objects.get(region=region, code=area_code) if area_code else None,
                    "agency": Agency.objects.get(region=region, code=agency_code),
                    "note": note,
                    "active": True,
                },
            )

    def staff(self, region, rows) -> None:
        for username, full_name, agency_code, role in rows:
            user = self.user(username, full_name, is_staff=role == Role.REGION_ADMIN)
            agency = Agency.objects.get(region=region, code=agency_code) if agency_code else None
            Membership.objects.get_or_create(user=user, region=region, agency=agency, role=role)

    def user(self, username, full_name, *, is_staff=False, is_superuser=False) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@simpul.example",
                password=DEMO_PASSWORD,
                full_name=full_name,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
        return user

    def permit_types(self, region) -> None:
        """The demo permit type, written once (editing it is the admin's: every edit is a new version)."""
        if PermitType.objects.filter(region=region, code="pbg").exists():
            return
        agencies = {a.code: a.pk for a in Agency.objects.filter(region=region)}
        save_permit_type(
            actor=Actor.for_user(User.objects.get(username="admin")),
            region_id=region.pk,
            code="pbg",
            edition=TypeEdition(
                name_id="Persetujuan Bangunan Gedung (PBG)",
                name_en="Building Approval (PBG)",
                description="Izin membangun, mengubah, memperluas atau merawat bangunan gedung.",
                handling_agency_id=agencies["dpmptsp"],
                reviewing_agency_ids=[agencies["dpupr"], agencies["dlh"]],
                applicant_kinds=["individual", "business"],
                form_schema=PBG_FORM,
                documents=PBG_DOCUMENTS,
                sla_working_days=14,
                fee=PBG_FEE,
                validity_days=5 * 365,
                deemed_approval=True,
            ),
        )

    def superuser(self) -> None:
        self.user("admin", "Administrator Simpul", is_staff=True, is_superuser=True)

    def resident(self) -> None:
        User.objects.get_or_create(phone=DEMO_RESIDENT_PHONE, defaults={"full_name": "Budi Santoso"})
