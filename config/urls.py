from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.core.auth import ThrottledLoginView
from apps.core.views import healthz

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's views, our templates (templates/registration/).
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include("apps.accounts.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("apps.campaigns.urls")),
    path("", include("apps.drafts.urls")),
    path("", include("apps.reviews.urls")),
    path("", include("apps.checks.urls")),
    path("", include("apps.rework.urls")),
    path("", include("apps.upscales.urls")),
    path("", include("apps.exports.urls")),
    path("", include("apps.comments.urls")),
    path("", include("apps.sharing.urls")),
]
