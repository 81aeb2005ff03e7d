"""Permit fixtures: the demo PBG type, documents that are what they claim, and GraphQL helpers."""

from __future__ import annotations

import io
import re

import pytest
from graphql_relay import to_global_id
from PIL import Image
from reportlab.pdfgen import canvas

from backend.accounts.models import User
from tests.helpers import post_multipart, staff_user

NIK = "1606014508900001"  # Musi Banyuasin, a woman born 5 August 1990
FORM = {"alamat_bangunan": "Jl. Merdeka No. 10, Sekayu", "fungsi": "hunian", "luas_bangunan": 120, "jumlah_lantai": 2}

APPLICATION = """
fragment A on PermitApplication {
  id status statusLabel applicantName nik businessName nib form revisionItems feeAmount paymentReference paidAt
  permitNumber validFrom validUntil issuedAt officialName certificateUrl verifyUrl revokedAt
  permitType { code version name documents { code required } }
  documents { requirement filename contentType size url }
  reviews { agency { code } recommendation note inspectionDate }
  case { id trackingCode status dueAt version agency { code } timeline { type payload } }
}
"""
ERRORS = "errors { code field message }"


def pdf_bytes(text: str = "Dokumen") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 750, text)
    page.save()
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


class Permits:
    """Drives the permit API as the app and the staff would."""

    def __init__(self, gql):
        self.gql = gql

    def as_user(self, who: str | User):
        user = who if isinstance(who, User) else staff_user(who)
        self.gql.sign_in_as(user)
        return self

    def call(self, mutation: str, variables: dict, selection: str = "") -> dict:
        name = re.search(r"\{\s*(\w+)\(", mutation).group(1)
        body = self.gql(f"{APPLICATION} {mutation} {{ {selection} {ERRORS} }} }}", variables)
        return body[name]

    def draft(self, kind: str = "INDIVIDUAL") -> dict:
        result = self.call(
            'mutation($k: ApplicantKind!) { createPermitDraft(region: "musi-banyuasin", permitType: "pbg", '
            "applicantKind: $k)",
            {"k": kind},
            "application { ...A }",
        )
        assert result["errors"] == [], result
        return result["application"]

    def update(self, application_id: str, **fields) -> dict:
        declared = {
            "nik": "String",
            "applicantName": "String",
            "businessName": "String",
            "nib": "String",
            "form": "GenericScalar",
        }
        params = "".join(f", ${k}: {declared[k]}" for k in fields)
        args = "".join(f", {k}: ${k}" for k in fields)
        return self.call(
            f"mutation($id: ID!{params}) {{ updatePermitApplication(applicationId: $id{args})",
            {"id": application_id, **fields},
            "warnings application { ...A }",
        )

    def attach(self, application_id: str, requirement: str, name: str, data: bytes, content_type: str) -> dict:
        query = (
            "mutation($id: ID!, $r: String!, $f: Upload!) { attachPermitDocument("
            f"applicationId: $id, requirement: $r, file: $f) {{ document {{ requirement filename }} {ERRORS} }} }}"
        )
        response = post_multipart(
            self.gql,
            query,
            {"id": application_id, "r": requirement, "f": None},
            {"variables.f": (name, data, content_type)},
        )
        assert response.status_code == 200, response.content
        return response.json()["data"]["attachPermitDocument"]

    def attach_all(self, application_id: str) -> None:
        for requirement, name, data, content_type in (
            ("ktp", "ktp.jpg", jpeg_bytes(), "image/jpeg"),
            ("gambar_teknis", "denah.pdf", pdf_bytes("Denah"), "application/pdf"),
            ("bukti_tanah", "shm.pdf", pdf_bytes("SHM"), "application/pdf"),
        ):
            assert self.attach(application_id, requirement, name, data, content_type)["errors"] == []

    def submit(self, application_id: str) -> dict:
        return self.call(
            "mutation($id: ID!) { submitPermitApplication(applicationId: $id)",
            {"id": application_id},
            "application { ...A }",
        )

    def act(self, mutation: str, case_id: str, **arguments) -> dict:
        types = {
            "version": "Int",
            "text": "String!",
            "reason": "String!",
            "reasons": "String!",
            "items": "[RevisionItemInput!]!",
            "agencyIds": "[ID!]",
            "recommendation": "Recommendation!",
            "note": "String!",
            "inspectionDate": "Date",
        }
        params = "".join(f", ${k}: {types[k]}" for k in arguments)
        args = "".join(f", {k}: ${k}" for k in arguments)
        return self.call(
            f"mutation($c: ID!{params}) {{ {mutation}(caseId: $c{args})",
            {"c": case_id, **arguments},
            "case { id status version permit { ...A } }",
        )

    def filed(self, who: str | User) -> dict:
        """A complete application by `who`, submitted."""
        self.as_user(who)
        application = self.draft()
        assert self.update(application["id"], nik=NIK, form=FORM)["errors"] == []
        self.attach_all(application["id"])
        result = self.submit(application["id"])
        assert result["errors"] == [], result
        return result["application"]


@pytest.fixture
def permits(gql, demo, local_media):
    return Permits(gql)


@pytest.fixture
def agency_id(demo):
    from backend.regions.models import Agency

    def get(code, region="muba"):
        return to_global_id("Agency", Agency.objects.get(region=demo[region], code=code).pk)

    return get
