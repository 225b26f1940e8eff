from django.urls import path

from apps.reviews import views

app_name = "reviews"

urlpatterns = [
    path("drafts/<int:pk>/reviews/", views.review_create, name="create"),
    path("drafts/<int:pk>/suggest/", views.review_suggest, name="suggest"),
]
