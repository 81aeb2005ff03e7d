"""Complaints with photos, end to end through /graphql with multipart requests (the GraphQL multipart request
spec), on the local storage and on an S3 emulator over HTTP (moto's server)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from graphql_relay import from_global_id
from PIL import Image

from backend.cases.models import Case
from media.models import Attachment
from tests.helpers import complaint_input, post_multipart, staff_user
from tests.media.test_images import encode, phone_exif, png_claiming

pytestmark = pytest.mark.django_db

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  case { id trackingCode photos { position width height capturedAt url largeUrl smallUrl latitude longitude } }
  errors { code field message } } }"""
PHOTOS = """query($r: String!, $c: String!) { caseByTrackingCode(region: $r, trackingCode: $c) {
  photos { url latitude } } }"""


def phone_jpeg() -> bytes:
    """A 1600x1200 photo as a phone stores it: sideways (orientation 6), with time and position."""
    image = Image.new("RGB", (1600, 1200), (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, 800, 600))
    exif = phone_exif(
        orientation=6,
        taken="2026:11:20 09:15:00",
        offset="+07:00",
        latitude=("S", (2.0, 30.0, 0.0)),
        longitude=("E", (103.0, 45.0, 0.0)),
    )
    return encode(image, "JPEG", exif=exif, quality=90)


def submit_with_photos(gql, category, place, photos: list[tuple[str, bytes, str]], **fields):
    variables = {"input": {**complaint_input(category, *place, **fields), "photos": [None] * len(photos)}}
    files = {f"variables.input.photos.{i}": photo for i, photo in enumerate(photos)}
    response = post_multipart(gql, SUBMIT, variables, files)
    assert response.status_code == 200, response.content
    return response.json()["data"]["submitComplaint"]


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_photos_are_stored_upright_without_metadata(gql, local_media, resident, category, places):
    gql.sign_in_as(resident)
    result = submit_with_photos(
        gql,
        category("jalan-rusak"),
        places["lais"],
        [
            ("IMG_0001.jpg", phone_jpeg(), "image/jpeg"),
            ("map.png", encode(Image.new("RGBA", (300, 200), (0, 0, 0, 0)), "PNG"), "image/png"),
        ],
    )
    assert result["errors"] == []
    first, second = result["case"]["photos"]
    assert (first["position"], first["width"], first["height"]) == (0, 1200, 1600)  # turned upright
    assert datetime.fromisoformat(first["capturedAt"]) == datetime.fromisoformat("2026-11-20T09:15:00+07:00")
    assert first["latitude"] is None  # the position the camera recorded is for staff
    assert (second["width"], second["height"]) == (300, 200)
    assert len(stored_files(local_media)) == 6  # three renditions each, and not one upload kept as sent
    response = gql.http.get(first["url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert served.size == (1200, 1600) and not served.getexif() and "exif" not in served.info
    thumb = Image.open(io.BytesIO(b"".join(gql.http.get(first["smallUrl"]).streaming_content)))
    assert max(thumb.size) == 320
    attachment = Attachment.objects.get(position=0)
    assert attachment.gps_lat == pytest.approx(-2.5) and attachment.gps_lon == pytest.approx(103.75)
    assert Case.objects.get().events.values_list("type", flat=True).count() == 2


def test_who_sees_photos(gql, local_media, resident, other_resident, category, places):
    gql.sign_in_as(resident)
    result = submit_with_photos(gql, category("sampah"), places["lais"], [("a.jpg", phone_jpeg(), "image/jpeg")])
    code = result["case"]["trackingCode"]
    variables = {"r": "16.06", "c": code}
    gql.sign_in_as(staff_user("dishub.staf"))
    staff_view = gql(PHOTOS, variables)["caseByTrackingCode"]["photos"]
    assert staff_view[0]["latitude"] == pytest.approx(-2.5)
    gql.sign_in_as(other_resident)
    assert gql(PHOTOS, variables)["caseByTrackingCode"]["photos"] == []  # not approved for public view yet
    # Joining the complaint as a co-reporter widens nothing: the photos stay the reporter's and staff's.
    join = "mutation($c: ID!) { joinComplaint(caseId: $c) { errors { code } } }"
    assert gql(join, {"c": result["case"]["id"]})["joinComplaint"]["errors"] == []
    assert gql(PHOTOS, variables)["caseByTrackingCode"]["photos"] == []
    gql.sign_in_as(staff_user("admin"))
    gql(
        "mutation($c: ID!) { setComplaintPublished(caseId: $c, published: true) { errors { code } } }",
        {"c": result["case"]["id"]},
    )
    gql.sign_in_as(other_resident)
    [photo] = gql(PHOTOS, variables)["caseByTrackingCode"]["photos"]
    assert photo["latitude"] is None and gql.http.get(photo["url"]).status_code == 200


def test_media_links_cannot_be_forged(gql, local_media, resident, category, places):
    gql.sign_in_as(resident)
    url = submit_with_photos(gql, category("sampah"), places["lais"], [("a.jpg", phone_jpeg(), "image/jpeg")])["case"][
        "photos"
    ][0]["url"]
    token = url.rsplit("/", 1)[1]
    assert (
        gql.http.get(url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))).status_code == 404
    )
    assert gql.http.get("/media/" + "cases.1.guess.full.jpg").status_code == 404


def truncated_jpeg() -> bytes:
    data = phone_jpeg()
    return data[: len(data) // 2]


BAD_FILES = [
    (("broken.jpg", truncated_jpeg(), "image/jpeg"), "CORRUPT"),
    (("bomb.png", png_claiming(30000, 30000), "image/png"), "TOO_MANY_PIXELS"),
    (("page.jpg", b"<!DOCTYPE html><html><body>hi</body></html>", "image/jpeg"), "UNSUPPORTED_TYPE"),
    (("scan.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "image/jpeg"), "UNSUPPORTED_TYPE"),
    (("empty.jpg", b"", "image/jpeg"), "EMPTY"),
]


def test_every_bad_file_gets_its_own_error_and_nothing_is_written(gql, local_media, resident, category, places):
    gql.sign_in_as(resident)
    photos = [("good.jpg", phone_jpeg(), "image/jpeg"), *[f for f, _code in BAD_FILES]]
    result = submit_with_photos(gql, category("sampah"), places["lais"], photos[:5])
    assert result["case"] is None
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        (f"photos.{i + 1}", code) for i, (_f, code) in enumerate(BAD_FILES[:4])
    }
    result = submit_with_photos(gql, category("sampah"), places["lais"], [BAD_FILES[4][0]])
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("photos.0", "EMPTY")]
    assert not Case.objects.exists() and not Attachment.objects.exists() and stored_files(local_media) == []


def test_six_photos_are_too_many(gql, local_media, resident, category, places):
    gql.sign_in_as(resident)
    small = encode(Image.new("RGB", (40, 30), (9, 9, 9)), "JPEG")
    result = submit_with_photos(
        gql, category("sampah"), places["lais"], [(f"{i}.jpg", small, "image/jpeg") for i in range(6)]
    )
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("photos", "TOO_MANY_PHOTOS")]
    assert not Case.objects.exists() and stored_files(local_media) == []


def test_oversized_photo_is_refused_before_reading(gql, local_media, resident, category, places, settings):
    settings.MEDIA_MAX_BYTES = 50_000
    gql.sign_in_as(resident)
    result = submit_with_photos(
        gql, category("sampah"), places["lais"], [("big.jpg", phone_jpeg() + b"\0" * 60_000, "image/jpeg")]
    )
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("photos.0", "TOO_LARGE")]


@pytest.mark.parametrize(
    ("operations", "mapping", "fragment"),
    [
        ("not json", "{}", "holding JSON"),
        ("[]", "{}", "Batched operations"),
        ('{"query": "{ me { id } }"}', '{"0": ["variables.x"]}', "is missing"),
        ('{"query": "{ me { id } }", "variables": {}}', '{"f": ["variables.nowhere.deep"]}', "does not name a place"),
        ('{"query": "{ me { id } }", "variables": {"a": 1}}', '{"f": ["variables.a"]}', "must be null"),
    ],
)
def test_malformed_multipart_requests(gql, operations, mapping, fragment):
    files = {"f": SimpleUploadedFile("a.jpg", b"x")}
    response = gql.http.post("/graphql", {"operations": operations, "map": mapping, **files})
    assert response.status_code == 400
    assert fragment in response.json()["errors"][0]["message"]


def test_upload_only_in_variables(gql, resident):
    gql.sign_in_as(resident)
    response = gql.post(
        'mutation { submitComplaint(input: {region: "x", category: "1", description: "d", lat: 1, lon: 1, photos: ["a"]}) { errors { code } } }'
    )
    assert response.status_code == 400


def test_photos_on_s3(gql, resident, category, places, s3):
    gql.sign_in_as(resident)
    result = submit_with_photos(gql, category("sampah"), places["lais"], [("a.jpg", phone_jpeg(), "image/jpeg")])
    assert result["errors"] == []
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket)["Contents"])
    assert len(keys) == 3 and all(k.startswith(f"cases/{places_region_id(result)}/") for k in keys)
    full = s3.get_object(Bucket=s3.bucket, Key=Attachment.objects.get().storage_key)["Body"].read()
    assert not Image.open(io.BytesIO(full)).getexif()
    url = result["case"]["photos"][0]["url"]
    assert "X-Amz-Signature=" in url or "Signature=" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == full
    assert "Content-Disposition" not in fetched.headers  # a photo is shown where it is used


def places_region_id(result) -> int:
    return Case.objects.get(pk=from_global_id(result["case"]["id"])[1]).region_id


def test_a_retry_with_photos_stores_nothing_twice(gql, local_media, resident, category, places):
    gql.sign_in_as(resident)
    photo = [("a.jpg", phone_jpeg(), "image/jpeg")]
    first = submit_with_photos(gql, category("sampah"), places["lais"], photo, idempotencyKey="retry-1")
    again = submit_with_photos(gql, category("sampah"), places["lais"], photo, idempotencyKey="retry-1")
    assert again["case"]["trackingCode"] == first["case"]["trackingCode"]
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1 and len(stored_files(local_media)) == 3
    case = Case.objects.get()
    assert list(case.events.values_list("type", flat=True)) == ["submitted", "routed"]
    assert case.agency.code == "dlh"
