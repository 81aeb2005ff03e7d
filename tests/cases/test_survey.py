"""The SKM survey and the IKM: the arithmetic of PermenPANRB 14/2017, its grade bands, and who may answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from graphql_relay import to_global_id

from backend.accounts.models import User
from backend.cases.models import Case, SurveyResponse
from backend.cases.survey import grade, service_index
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db

ANSWER = "mutation($c: ID!, $a: [Int!]!, $t: String) { answerSurvey(caseId: $c, answers: $a, comment: $t) { ok errors { code field } } }"
INDEX = 'query($a: ID) { serviceIndex(region: "16.06", agency: $a) { responses elementMeans elementNames ikm grade } }'


@pytest.mark.parametrize(
    ("value", "letter"),
    [
        ("100", "A"),
        ("88.31", "A"),
        ("88.305", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25", "D"),
    ],
)
def test_grade_bands(value, letter):
    assert grade(Decimal(value)) == letter


@pytest.fixture
def closed_cases(gql, resident, other_resident, category, places):
    ids = []
    for user in (resident, other_resident, User.objects.create(phone="+6281233334444")):
        gql.sign_in_as(user)
        case_id = gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])})["submitComplaint"][
            "case"
        ]["id"]
        ids.append(case_id)
    Case.objects.update(status="closed")
    return ids


def test_ikm_arithmetic(gql, closed_cases, resident, other_resident):
    third = User.objects.get(phone="+6281233334444")
    answers = {
        resident: [4, 4, 3, 4, 3, 3, 4, 4, 3],
        other_resident: [3, 3, 3, 4, 3, 2, 3, 3, 2],
        third: [4, 3, 2, 4, 4, 3, 4, 3, 3],
    }
    for (user, values), case_id in zip(answers.items(), closed_cases, strict=True):
        gql.sign_in_as(user)
        assert gql(ANSWER, {"c": case_id, "a": values})["answerSurvey"] == {"ok": True, "errors": []}
    index = service_index(region_id=Case.objects.first().region_id)
    # Element means: (11/3, 10/3, 8/3, 12/3, 10/3, 8/3, 11/3, 10/3, 8/3); their sum 88/3, their mean 88/27;
    # x 25 = 81.48: B (76.61-88.30).
    assert index.responses == 3
    assert index.element_means[3] == Decimal("4.000") and index.element_means[0] == Decimal("3.667")
    assert index.ikm == Decimal("81.48") and index.grade == "B"
    gql.sign_in_as(staff_user("admin.muba"))
    data = gql(INDEX)["serviceIndex"]
    assert data["responses"] == 3 and data["ikm"] == pytest.approx(81.48) and data["grade"] == "B"
    assert len(data["elementNames"]) == 9
    dishub = to_global_id("Agency", Case.objects.first().region.agencies.get(code="dishub").pk)
    assert gql(INDEX, {"a": dishub})["serviceIndex"] == {
        "responses": 0,
        "elementMeans": [None] * 9,
        "elementNames": data["elementNames"],
        "ikm": None,
        "grade": None,
    }


def test_refusals(gql, closed_cases, resident, other_resident):
    gql.sign_in_as(other_resident)
    assert gql(ANSWER, {"c": closed_cases[0], "a": [4] * 9})["answerSurvey"]["errors"] == [
        {"code": "NOT_FOUND", "field": "caseId"}
    ]
    gql.sign_in_as(resident)
    assert gql(ANSWER, {"c": closed_cases[0], "a": [4] * 8})["answerSurvey"]["errors"] == [
        {"code": "INVALID", "field": "answers"}
    ]
    assert gql(ANSWER, {"c": closed_cases[0], "a": [5] + [4] * 8})["answerSurvey"]["errors"][0]["field"] == "answers"
    assert gql(ANSWER, {"c": closed_cases[0], "a": [4] * 9})["answerSurvey"]["ok"] is True
    assert gql(ANSWER, {"c": closed_cases[0], "a": [4] * 9})["answerSurvey"]["errors"][0]["code"] == "ALREADY_DONE"
    Case.objects.filter(resident=other_resident).update(status="in_progress")
    gql.sign_in_as(other_resident)
    assert gql(ANSWER, {"c": closed_cases[1], "a": [4] * 9})["answerSurvey"]["errors"][0]["code"] == "INVALID_STATE"
    assert SurveyResponse.objects.count() == 1


def test_index_is_for_the_regions_staff(gql, closed_cases, resident):
    gql.sign_in_as(staff_user("admin.parepare"))
    response = gql.post(INDEX).json()
    assert response["data"]["serviceIndex"] is None and response["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    gql.sign_in_as(resident)
    assert gql.post(INDEX).json()["data"]["serviceIndex"] is None
