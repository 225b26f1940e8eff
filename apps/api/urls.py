from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.api import pages, views

app_name = "api"

urlpatterns = [
    # The schema and its docs page are public: they describe the API, not anyone's data.
    path("api/v1/schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "api/v1/docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("api/v1/campaigns/", views.CampaignList.as_view(), name="campaigns"),
    path("api/v1/campaigns/<int:pk>/", views.CampaignDetail.as_view(), name="campaign"),
    path("api/v1/campaigns/<int:pk>/batches/", views.BatchList.as_view(), name="batches"),
    path("api/v1/campaigns/<int:pk>/packs/", views.PackCreate.as_view(), name="pack-create"),
    path("api/v1/batches/<int:pk>/drafts/", views.DraftList.as_view(), name="drafts"),
    path("api/v1/drafts/<int:pk>/", views.DraftDetail.as_view(), name="draft"),
    path("api/v1/drafts/<int:pk>/record/", views.DraftRecord.as_view(), name="record"),
    path("api/v1/drafts/<int:pk>/reviews/", views.DraftDecide.as_view(), name="decide"),
    path("api/v1/drafts/<int:pk>/sign-off/", views.DraftSignOff.as_view(), name="sign-off"),
    path("api/v1/drafts/<int:pk>/upscales/", views.UpscaleCreate.as_view(), name="upscale-create"),
    path("api/v1/drafts/<int:pk>/exports/", views.DraftExports.as_view(), name="exports"),
    path("api/v1/assignments/", views.AssignmentList.as_view(), name="assignments"),
    path(
        "api/v1/assignments/<int:pk>/submit/",
        views.AssignmentSubmit.as_view(),
        name="assignment-submit",
    ),
    path("api/v1/upscales/<int:pk>/", views.UpscaleDetail.as_view(), name="upscale"),
    path(
        "api/v1/upscales/<int:pk>/download/",
        views.UpscaleDownload.as_view(),
        name="upscale-download",
    ),
    path(
        "api/v1/versions/<int:pk>/download/",
        views.VersionDownload.as_view(),
        name="version-download",
    ),
    path("api/v1/packs/<int:pk>/", views.PackDetail.as_view(), name="pack"),
    path("api/v1/packs/<int:pk>/download/", views.PackDownload.as_view(), name="pack-download"),
    path("api/v1/jobs/<str:kind>/<int:pk>/", views.JobStatusView.as_view(), name="job"),
    # The person's own tokens, a page of the site (session login, CSRF).
    path("settings/tokens/", pages.tokens_page, name="tokens"),
]
