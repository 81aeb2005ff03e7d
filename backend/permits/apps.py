from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    name = "backend.permits"
    label = "permits"
    verbose_name = _("Permits")

    def ready(self):
        from backend.permits import workflow

        workflow.register()  # the kind's statuses and transition table, with the case core
