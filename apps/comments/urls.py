from django.urls import path

from apps.comments import views

app_name = "comments"

urlpatterns = [
    path("drafts/<int:pk>/comments/", views.draft_comments, name="draft"),
    path("comments/<int:pk>/resolve/", views.thread_resolve, name="resolve"),
    path("comments/<int:pk>/reopen/", views.thread_reopen, name="reopen"),
]
