from django.urls import path

from apps.exports import views

app_name = "exports"

urlpatterns = [
    path("drafts/<int:pk>/channels/", views.sheet_page, name="sheet"),
    path("drafts/<int:pk>/focal/", views.focal_save, name="focal"),
    path("drafts/<int:pk>/channels/<slug:slug>/crop/", views.crop_editor, name="crop"),
    path("drafts/<int:pk>/channels/<slug:slug>/crop/reset/", views.crop_reset, name="crop-reset"),
    path("drafts/<int:pk>/exports/", views.export_draft, name="export-draft"),
    path("drafts/<int:pk>/exports/status/", views.export_status, name="export-status"),
    path("batches/<int:pk>/exports/", views.export_batch, name="export-batch"),
    path("campaigns/<int:pk>/exports/", views.export_campaign, name="export-campaign"),
    path("versions/<int:pk>/file/", views.version_file, name="version-file"),
    path("campaigns/<int:pk>/packs/", views.packs_page, name="packs"),
    path("campaigns/<int:pk>/packs/new/", views.pack_create, name="pack-create"),
    path("drafts/<int:pk>/packs/new/", views.pack_create_draft, name="pack-create-draft"),
    path("packs/<int:pk>/download/", views.pack_download, name="pack-download"),
    path("packs/link/<str:token>/", views.pack_link_download, name="pack-link"),
    path("drafts/<int:pk>/record/", views.record_page, name="record"),
    path("drafts/<int:pk>/record.json", views.record_json, name="record-json"),
    path("drafts/<int:pk>/record/next-batch/", views.record_next_batch_view, name="next-batch"),
]
