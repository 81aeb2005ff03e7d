from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.queue_page, name="queue"),
    path("masuk", views.sign_in, name="sign-in"),
    path("keluar", views.sign_out, name="sign-out"),
    path("kata-sandi", views.password, name="password"),
    path("langsung", views.live_token, name="live-token"),
    path("peta", views.map_page, name="map"),
    path("peta.json", views.map_points, name="map-points"),
    path("ekspor", views.export_queue, name="export"),
    path("dasbor", views.dashboard_page, name="dashboard"),
    path("kasus/<int:case_id>", views.case_page, name="case"),
    path("kasus/<int:case_id>/<slug:action>", views.case_action, name="case-action"),
]
