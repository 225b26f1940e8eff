from django.urls import path

from apps.reviews import views

app_name = "reviews"

urlpatterns = [
    path("drafts/<int:pk>/reviews/", views.review_create, name="create"),
    path("drafts/<int:pk>/decision/", views.decision_live, name="decision"),
    path("drafts/<int:pk>/suggest/", views.review_suggest, name="suggest"),
    path("drafts/<int:pk>/sign-off/", views.sign_off, name="sign-off"),
    path("batches/<int:pk>/decide/", views.batch_decide, name="batch-decide"),
    path("campaigns/<int:pk>/decide/", views.campaign_decide, name="campaign-decide"),
    path("batches/<int:pk>/summary/", views.batch_summary_page, name="batch-summary"),
    path("review-preferences/", views.preferences_update, name="preferences"),
    path("drafts/<int:pk>/regions.json", views.regions_json, name="regions"),
    path("campaigns/<int:pk>/sign-off/", views.sign_off_queue, name="sign-off-queue"),
    path("campaigns/<int:pk>/review-settings/", views.settings_page, name="settings"),
    path(
        "campaigns/<int:pk>/product-reference/",
        views.product_reference,
        name="product-reference",
    ),
]
