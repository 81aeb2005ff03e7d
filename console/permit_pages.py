"""A permit application in the console: what its case page shows (the form's answers, the documents, the masked NIK
and its audited reveal, the reviews, the fee, the certificate) and the office's actions, each one service of
backend.permits.office (the API's). Who may do what, in which state, is the permit workflow's to say."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.errors import DomainError
from backend.forms import localized
from backend.permits import applicant, office
from backend.permits import selectors as permits
from backend.permits.models import ApplicantKind, Recommendation
from backend.permits.workflow import decision_ready, reviews_done
from backend.regions.models import Agency
from console import inputs
from media.storage import url_for

RECOMMENDATION_LABELS = {
    Recommendation.APPROVE: gettext_lazy("Approve"),
    Recommendation.APPROVE_WITH_CONDITIONS: gettext_lazy("Approve with conditions"),
    Recommendation.REJECT: gettext_lazy("Reject"),
}
REVISION_ROWS = 3  # rows of the revision form; the service takes as many as are filled in


def _recommendation(*, expected_version, **values):
    """A reviewing agency's recommendation stands on its own: another step taken meanwhile does not make it stale."""
    return office.recommend(**values)


def _revision_items(request) -> list[dict[str, str]]:
    """Rows of (what: `field:<path>` or `document:<code>`, note) as the service's items."""
    items = []
    for row in inputs.rows("items", ("target", "note"))(request):
        kind, _sep, name = row["target"].partition(":")
        field, document = (name, "") if kind == "field" else ("", name if kind == "document" else "")
        items.append({"field": field, "document": document, "note": row["note"]})
    return items


# action -> (service, its inputs read from the request), as the complaint actions in console.views.
ACTIONS: dict[str, tuple[Callable, dict[str, inputs.Reader]]] = {
    "verify": (office.start_verification, {}),
    "request_revision": (office.request_revision, {"items": _revision_items}),
    "send_to_review": (office.send_to_review, {"agency_ids": inputs.numbers("agencies")}),
    "recommend": (
        _recommendation,
        {
            "recommendation": inputs.text("recommendation"),
            "note": inputs.text("text"),
            "inspection_date": inputs.date("inspection_date"),
            "report": inputs.file("report"),
        },
    ),
    "assess_fee": (office.assess_fee, {}),
    "record_payment": (office.record_payment, {}),
    "approve": (office.approve, {}),
    "issue": (office.issue, {}),
    "reject": (office.reject, {"reasons": inputs.text("text")}),
    "message": (applicant.send_message, {"text": inputs.text("text")}),
    "note": (office.add_note, {"text": inputs.text("text")}),
    "revoke": (office.revoke, {"reason": inputs.text("text")}),
    "reveal_nik": (office.reveal_nik, {}),  # console.views renders the page with the NIK instead of redirecting
}


def reveal_nik(actor: Actor, case) -> str:
    return office.reveal_nik(actor=actor, case_id=case.pk)


def _language() -> str:
    return (get_language() or "id")[:2]


def context(request, case, moves: set[str], labels: dict[str, str]) -> dict:
    """What the case page shows of a permit application to the region's staff."""
    application = case.permit
    version = application.type_version
    language = _language()
    posted = request.POST if request.method == "POST" else {}
    documents = permits.documents(request.actor, application)
    for document in documents:
        document.url = url_for(document.storage_key, download_as=document.filename or "document")
        document.is_image = document.content_type.startswith("image/")
    reviews = list(permits.reviews(application))
    for review in reviews:
        review.label = RECOMMENDATION_LABELS.get(review.recommendation, "")
        review.report_url = (
            url_for(review.report.storage_key, download_as=review.report.filename or "report.pdf")
            if review.report_id
            else None
        )
    if "recommend" in moves and not any(
        review.recorded_at is None and request.actor.works_at(review.agency_id) for review in reviews
    ):
        moves.discard("recommend")  # the agency's part is recorded: the move stays open for other reviewers
    waiting = []
    for action, guard in GUARDED.items():  # offered only when the step's condition holds; else said why not
        if action in moves:
            try:
                guard(case)
            except DomainError as exc:
                moves.discard(action)
                waiting.append(exc.message)
    reviewers = set(version.reviewing_agencies.values_list("pk", flat=True)) if "send_to_review" in moves else set()
    return {
        "application": application,
        "permit_name": version.name(language),
        "permit_answers": permits.form_answers(application, language),
        "documents": documents,
        "reviews": reviews,
        "recommendations": list(RECOMMENDATION_LABELS.items()),
        "revision_targets": list(labels.items()),
        "revision_items": [
            (labels.get(_target(item), _target(item)), item.get("note", "")) for item in application.revision_items
        ],
        "waiting": waiting,
        "fee": rupiah(application.fee_amount) if application.fee_amount is not None else None,
        "revision_rows": [  # what a refused request typed, back in its rows
            (row, posted.get(f"target_{row}", ""), posted.get(f"note_{row}", "")) for row in range(REVISION_ROWS)
        ],
        "review_agencies": [
            (agency, agency.pk in reviewers)
            for agency in Agency.objects.filter(region_id=case.region_id, active=True)
            .exclude(pk=case.agency_id)
            .order_by("name")
        ]
        if "send_to_review" in moves
        else [],
        "certificate_url": url_for(
            application.certificate.storage_key, download_as=f"{application.permit_number.replace('/', '-')}.pdf"
        )
        if application.certificate_id
        else None,
        "verify_url": office.verify_url(application) if application.issued_at else None,
    }


def target_labels(case) -> dict[str, str]:
    """What a revision may name (`field:<name>`, `document:<code>`) and how people read it: the applicant's own
    fields (a business's only for a business), the form's questions and the documents, in the active language."""
    application, language = case.permit, _language()
    version = application.type_version
    named = {"field:applicantName": str(_("Applicant's name")), "field:nik": "NIK"}
    if application.applicant_kind == ApplicantKind.BUSINESS:
        named.update({"field:businessName": str(_("Business name")), "field:nib": "NIB"})
    schema = localized(version.form_schema or {}, language)
    for key, spec in schema.get("properties", {}).items():
        named[f"field:{key}"] = (spec if isinstance(spec, dict) else {}).get("title") or key
    for doc in version.documents:
        named[f"document:{doc['code']}"] = _("Document: %(name)s") % {"name": _doc_name(doc, language)}
    return named


def _target(item: dict) -> str:
    return f"field:{item['field']}" if item.get("field") else f"document:{item.get('document', '')}"


def rupiah(amount: int) -> str:
    """Rp 1.875.000: thousands with dots, as Indonesians write them."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def _doc_name(doc: dict, language: str) -> str:
    return doc.get("name_en" if language == "en" else "name_id") or doc["code"]


# A step's detail on the timeline, from its event's payload and the names of what revisions name.
EVENT_DETAILS = {
    "fee_assessed": lambda p, labels: (
        _("%(amount)s, payment reference %(reference)s")
        % {"amount": rupiah(p.get("amount", 0)), "reference": p.get("payment_reference", "")}
    ),
    "issued": lambda p, labels: _("Permit number %(number)s") % {"number": p.get("permit_number", "")},
    "recommendation_recorded": lambda p, labels: (
        f"{p.get('agency', '').upper()}: "
        + str(RECOMMENDATION_LABELS.get(p.get("recommendation"), p.get("recommendation", "")))
    ),
    "review_started": lambda p, labels: ", ".join(code.upper() for code in p.get("agencies", [])),
    "revision_requested": lambda p, labels: "; ".join(
        f"{labels.get(_target(item), _target(item))}: {item.get('note')}" for item in p.get("items", [])
    ),
    "resubmitted": lambda p, labels: _resubmitted(p.get("answered", []), labels),
}


def _resubmitted(items: list[dict], labels: dict[str, str]) -> str:
    """What the applicant revised of what the office named, and what they sent back unchanged."""
    named = {True: [], False: []}
    for item in items:
        named[bool(item.get("revised"))].append(labels.get(_target(item), _target(item)))
    parts = [_("Revised: %(what)s") % {"what": ", ".join(named[True])}] if named[True] else []
    if named[False]:
        parts.append(_("sent back unchanged: %(what)s") % {"what": ", ".join(named[False])})
    return "; ".join(parts)


def event_detail(event, labels: dict[str, str]) -> str:
    """What a permit's step recorded, in a line of the timeline."""
    detail = EVENT_DETAILS.get(event.type)
    return detail(event.payload, labels) if detail else ""


# Steps offered only when their condition holds (the transition checks it again when the step is taken).
GUARDED = {"assess_fee": reviews_done, "approve": decision_ready}
