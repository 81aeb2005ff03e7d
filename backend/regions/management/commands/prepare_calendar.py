"""Work out the national days off (the `holidays` package) of some years and store them, so that web processes read
them from the database instead of loading the package (docs/working-days.md). Run it after `migrate` on every
deploy: a new package version or other HOLIDAY_CATEGORIES make new rows. Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from backend.regions import calendar


class Command(BaseCommand):
    help = "Store the national days off of some years (default: last year to two years ahead)."

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, nargs="+", metavar="YEAR", help="years to prepare, e.g. 2026 2027")

    def handle(self, *args, years=None, **options):
        if not years:
            this_year = timezone.localdate().year
            years = range(this_year - 1, this_year + 3)
        source = calendar.holiday_source()
        for year, worked_out in calendar.prepare_national_days_off(years).items():
            self.stdout.write(f"{year}: {'prepared' if worked_out else 'already prepared'} ({source})")
