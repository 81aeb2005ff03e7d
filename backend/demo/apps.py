from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo regions, agencies, staff and resident (`manage.py seed_demo`): above every domain app it fills."""

    name = "backend.demo"
    label = "demo"
    verbose_name = _("Demo data")
