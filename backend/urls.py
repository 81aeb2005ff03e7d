from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from backend.health import healthz, readyz
from backend.permits.views import payment_callback, verify_page
from media.views import serve as serve_media
from schema.views import SimpulGraphQLView

admin.site.site_header = admin.site.site_title = _("Simpul administration")
admin.site.index_title = _("Region configuration")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Bearer-token API: no cookies are read, so there is nothing for CSRF to protect.
    path("graphql", csrf_exempt(SimpulGraphQLView.as_view(graphiql=settings.DEBUG)), name="graphql"),
    path("media/<str:token>", serve_media, name="media-file"),
    path("verify/<str:token>", verify_page, name="permit-verify"),
    path("integrations/payments", payment_callback, name="payment-callback"),
    path("open311/v2/", include("open311.urls")),
    path("console/", include("console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
