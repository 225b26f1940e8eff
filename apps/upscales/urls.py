from django.urls import path

from apps.upscales import views

app_name = "upscales"

urlpatterns = [
    path("drafts/<int:pk>/upscales/", views.upscale_create, name="create"),
    path("batches/<int:pk>/upscales/", views.batch_upscale, name="batch-create"),
    path("upscales/<int:pk>/", views.upscale_detail, name="detail"),
    path("upscales/<int:pk>/status/", views.upscale_status, name="status"),
    path("upscales/<int:pk>/cancel/", views.upscale_cancel_view, name="cancel"),
    path("upscales/<int:pk>/retry/", views.upscale_retry_view, name="retry"),
    path("upscales/<int:pk>/image/", views.upscale_image, name="image"),
    path("upscales/<int:pk>/download/", views.upscale_download, name="download"),
]
