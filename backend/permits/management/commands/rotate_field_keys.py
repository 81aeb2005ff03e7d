"""Re-encrypt every stored NIK under the current key (the first of FIELD_ENCRYPTION_KEYS) and re-compute its look-up
hash under the current NIK_HASH_KEY. Run it after putting a new key first; then the old key can be dropped."""

from django.core.management.base import BaseCommand
from django.db import transaction

from backend.permits import nik
from backend.permits.models import PermitApplication


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        done = 0
        rows = PermitApplication.objects.exclude(nik_encrypted="").only("pk", "nik_encrypted").order_by("pk")
        for application in rows.iterator(chunk_size=500):
            value = nik.decrypt(application.nik_encrypted)
            with transaction.atomic():
                PermitApplication.objects.filter(pk=application.pk).update(
                    nik_encrypted=nik.rotate(application.nik_encrypted), nik_hash=nik.lookup_hash(value)
                )
            done += 1
        self.stdout.write(self.style.SUCCESS(f"{done} NIKs re-encrypted and re-hashed under the current keys."))
