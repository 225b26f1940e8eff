from django.urls import path

from apps.drafts import views

app_name = "drafts"

urlpatterns = [
    path("campaigns/<int:pk>/upload/", views.upload_page, name="upload"),
    path("campaigns/<int:pk>/batches/", views.batch_create_view, name="batch-create"),
    path("campaigns/<int:pk>/search/", views.campaign_search, name="search"),
    path(
        "campaigns/<int:pk>/saved-searches/", views.saved_filter_create, name="saved-search-create"
    ),
    path("saved-searches/<int:pk>/delete/", views.saved_filter_remove, name="saved-search-delete"),
    path("batches/<int:pk>/", views.batch_grid, name="batch"),
    path("batches/<int:pk>/stacks/<str:key>/", views.stack_detail, name="stack"),
    path("batches/<int:pk>/files/", views.upload_file, name="upload-file"),
    path("drafts/<int:pk>/", views.draft_detail, name="detail"),
    path("drafts/<int:pk>/status/", views.draft_status, name="status"),
    path("drafts/<int:pk>/image/<str:name>/", views.draft_image, name="image"),
    path("drafts/<int:pk>/download/", views.draft_download, name="download"),
    path("drafts/<int:pk>/references/", views.reference_add, name="reference-add"),
    path("references/<int:pk>/file/", views.reference_file, name="reference-file"),
]
