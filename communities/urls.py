from django.urls import path

from communities import staff_members, views

staff_urlpatterns = [
    path("api-keys/", views.StaffApiTokenListView.as_view(), name="api_tokens"),
    path(
        "api-keys/<int:pk>/revoke/",
        views.StaffApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
    # The team: staff, roles and invitations.
    path("team/", views.StaffTeamView.as_view(), name="team"),
    path(
        "team/invitations/<int:pk>/revoke/",
        views.StaffInvitationRevokeView.as_view(),
        name="staff_invitation_revoke",
    ),
    path("team/<int:pk>/role/", views.StaffRoleChangeView.as_view(), name="team_role_change"),
    path("team/<int:pk>/remove/", views.StaffRoleRemoveView.as_view(), name="team_remove"),
    # Communities and their custom attributes.
    path("communities/", views.StaffCommunityListView.as_view(), name="community_list"),
    path("communities/new/", views.StaffCommunityCreateView.as_view(), name="community_create"),
    path(
        "communities/<int:pk>/",
        views.StaffCommunityDetailView.as_view(),
        name="community_detail",
    ),
    path(
        "communities/<int:pk>/edit/",
        views.StaffCommunityEditView.as_view(),
        name="community_edit",
    ),
    path(
        "communities/<int:pk>/attributes/",
        views.StaffAttributeListView.as_view(),
        name="attribute_list",
    ),
    path("attributes/<int:pk>/", views.StaffAttributeEditView.as_view(), name="attribute_edit"),
    path(
        "attributes/<int:pk>/delete/",
        views.StaffAttributeDeleteView.as_view(),
        name="attribute_delete",
    ),
    # Members, imports and segments of one community (communities/staff_members.py).
    path(
        "communities/<int:pk>/members/",
        staff_members.MemberListView.as_view(),
        name="member_list",
    ),
    path(
        "communities/<int:pk>/members/new/",
        staff_members.MemberAddView.as_view(),
        name="member_add",
    ),
    path(
        "communities/<int:pk>/members/invite/",
        staff_members.MemberInviteView.as_view(),
        name="member_invite",
    ),
    path(
        "communities/<int:pk>/members/import/",
        staff_members.MemberImportCreateView.as_view(),
        name="member_import_create",
    ),
    path("members/<int:pk>/", staff_members.MemberDetailView.as_view(), name="member_detail"),
    path(
        "imports/<int:pk>/",
        staff_members.MemberImportDetailView.as_view(),
        name="member_import_detail",
    ),
    path(
        "imports/<int:pk>/confirm/",
        staff_members.MemberImportConfirmView.as_view(),
        name="member_import_confirm",
    ),
    path(
        "imports/<int:pk>/problems.csv",
        staff_members.MemberImportErrorsView.as_view(),
        name="member_import_errors",
    ),
    path(
        "communities/<int:pk>/segments/",
        staff_members.SegmentListView.as_view(),
        name="segment_list",
    ),
    path(
        "communities/<int:pk>/segments/new/",
        staff_members.SegmentCreateView.as_view(),
        name="segment_create",
    ),
    path(
        "communities/<int:pk>/segments/count/",
        staff_members.SegmentCountView.as_view(),
        name="segment_count",
    ),
    path("segments/<int:pk>/", staff_members.SegmentEditView.as_view(), name="segment_edit"),
    path(
        "segments/<int:pk>/delete/",
        staff_members.SegmentDeleteView.as_view(),
        name="segment_delete",
    ),
]

# Member-facing pages of one community, under the namespace "community" (config/urls.py).
_C = "c/<slug:org>/<slug:community>/"
member_urlpatterns = [
    path(f"{_C}join/", views.MemberJoinView.as_view(), name="join"),
    path(f"{_C}join/sent/", views.MemberJoinSentView.as_view(), name="join_sent"),
    path(f"{_C}confirm/<str:signed>/", views.MemberConfirmView.as_view(), name="confirm"),
    path(f"{_C}invitation/<str:signed>/", views.MemberInvitationView.as_view(), name="invitation"),
    path(f"{_C}profile/", views.MemberProfileView.as_view(), name="profile"),
    path(f"{_C}consent/", views.MemberConsentView.as_view(), name="consent"),
    path(f"{_C}my-data/", views.MemberMyDataView.as_view(), name="my_data"),
    path(f"{_C}my-data/export/", views.MemberExportView.as_view(), name="export"),
    path(f"{_C}my-data/erase/", views.MemberEraseView.as_view(), name="erase"),
]
