from django.contrib import admin

from backend.complaints import services
from backend.complaints.models import ComplaintCategory, RoutingRule
from backend.regions.admin import RegionScopedAdmin


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(RegionScopedAdmin):
    save_service = staticmethod(services.save_category)
    delete_service = staticmethod(services.delete_category)
    list_display = ("code", "name_id", "name_en", "parent", "sla_value", "sla_unit", "region", "active")
    list_filter = ("region", "active", "sla_unit")
    search_fields = ("code", "name_id", "name_en")
    list_select_related = ("region", "parent")


@admin.register(RoutingRule)
class RoutingRuleAdmin(RegionScopedAdmin):
    """Rules are tried by order, lowest first; the first that matches routes the complaint. The "routingPreview"
    query shows which rule a category and point would hit."""

    save_service = staticmethod(services.save_routing_rule)
    delete_service = staticmethod(services.delete_routing_rule)
    list_display = ("order", "category", "area", "agency", "note", "region", "active")
    list_display_links = ("order", "category")
    list_filter = ("region", "active", "agency")
    list_select_related = ("region", "category", "area", "agency")
    ordering = ("region", "order", "id")
