"""Check the hash chain of every case's timeline (or some) and report the first broken link of each."""

from django.core.management.base import BaseCommand, CommandError

from backend.cases.models import Case
from backend.cases.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the tamper-evident timelines; exits 1 when any chain is broken."

    def add_arguments(self, parser):
        parser.add_argument("tracking_codes", nargs="*", help="Only these cases (default: all).")
        parser.add_argument("--region", help="Kemendagri code of one region.")

    def handle(self, *args, tracking_codes, region, **options):
        cases = Case.objects.order_by("pk")
        if tracking_codes:
            cases = cases.filter(tracking_code__in=tracking_codes)
        if region:
            cases = cases.filter(region__code=region)
        checked, broken = 0, 0
        for case in cases.iterator():
            checked += 1
            link = verify_chain(case)
            if link is not None:
                broken += 1
                self.stdout.write(f"{case.tracking_code} (region {case.region_id}): event {link.seq} {link.reason}")
        self.stdout.write(f"{checked} timelines checked, {broken} broken.")
        if broken:
            raise CommandError(f"{broken} broken timeline(s)")
