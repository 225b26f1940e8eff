from django.urls import path

from apps.rework import views

app_name = "rework"

urlpatterns = [
    path("rework/", views.inbox, name="inbox"),
    path("drafts/<int:pk>/assign/", views.assign, name="assign"),
    path("drafts/<int:pk>/reference/", views.reference, name="reference"),
    path("drafts/<int:pk>/compare/", views.compare, name="compare"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment"),
    path("assignments/<int:pk>/submit/", views.assignment_submit_view, name="submit"),
    path("assignments/<int:pk>/cancel/", views.assignment_cancel_view, name="cancel"),
    path("revisions/<int:pk>/image/", views.revision_image, name="revision-image"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
