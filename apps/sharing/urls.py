from django.urls import path

from apps.sharing import views

app_name = "sharing"

urlpatterns = [
    path("campaigns/<int:pk>/share-links/", views.links_page, name="links"),
    path("campaigns/<int:pk>/share-links/new/", views.link_create, name="create"),
    path("share-links/<int:pk>/revoke/", views.link_revoke, name="revoke"),
    # Guests: no account, the token is the key. Only these skip LoginRequiredMiddleware.
    path("share/<str:token>/", views.guest_home, name="guest"),
    path("share/<str:token>/drafts/<int:pk>/", views.guest_draft, name="guest-draft"),
    path("share/<str:token>/drafts/<int:pk>/answer/", views.guest_answer, name="guest-answer"),
    path(
        "share/<str:token>/drafts/<int:pk>/image/<str:name>/",
        views.guest_image,
        name="guest-image",
    ),
    path("share/<str:token>/pack/", views.guest_pack, name="guest-pack"),
    path(
        "share/<str:token>/drafts/<int:pk>/download/",
        views.guest_download,
        name="guest-download",
    ),
]
