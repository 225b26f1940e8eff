from django.urls import path

from apps.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_new, name="new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/activity/", views.campaign_activity_view, name="activity"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/archive/", views.campaign_archive_view, name="archive"),
    path("campaigns/<int:pk>/restore/", views.campaign_restore_view, name="restore"),
    path("campaigns/<int:pk>/people/", views.campaign_people, name="people"),
    path("campaigns/<int:pk>/people/invite/", views.campaign_invite, name="invite"),
    path(
        "campaigns/<int:pk>/people/<int:membership_pk>/role/",
        views.member_role,
        name="member-role",
    ),
    path(
        "campaigns/<int:pk>/people/<int:membership_pk>/remove/",
        views.member_remove,
        name="member-remove",
    ),
    path(
        "campaigns/<int:pk>/invitations/<int:invitation_pk>/withdraw/",
        views.invitation_withdraw,
        name="invitation-withdraw",
    ),
    path("invitations/<str:token>/", views.invitation_page, name="invitation"),
]
