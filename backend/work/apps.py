from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkConfig(AppConfig):
    """Staff work across the kinds of case: the queue and the case pages of the admin. Above complaints and permits,
    which it shows side by side; the case core below knows no kind."""

    name = "backend.work"
    label = "work"
    verbose_name = _("Staff work")
