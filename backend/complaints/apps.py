from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "backend.complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from backend.complaints import workflow

        workflow.register()  # the kind's statuses and transition table, with the case core
