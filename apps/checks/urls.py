from django.urls import path

from apps.checks import views

app_name = "checks"

urlpatterns = [
    path("drafts/<int:pk>/checks/", views.check_panel_fragment, name="panel"),
    path("drafts/<int:pk>/checks/rerun/", views.check_rerun_view, name="rerun"),
]
