from django.urls import re_path

from open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery),
    re_path(r"^services" + FORMAT, views.service_list),
    re_path(r"^services/(?P<code>[\w-]+)" + FORMAT, views.service_definition),
    re_path(r"^requests" + FORMAT, views.requests),
    re_path(r"^requests/(?P<request_id>[\w-]+)" + FORMAT, views.service_request),
    re_path(r"^tokens/(?P<token>[\w-]+)" + FORMAT, views.token),
    re_path(r"^servicerequestupdates" + FORMAT, views.request_updates),
    re_path(r"^.*$", views.unknown),  # the spec's error format for everything else under /open311/v2/
]
