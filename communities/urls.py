from django.urls import path

from communities.views import (
    api_tokens,
    audit,
    communities,
    imports,
    locations,
    member_links,
    member_pages,
    members,
    segments,
    settings,
    team,
)
from communities.webhooks import views as webhooks

staff_urlpatterns = [
    path("api-keys/", api_tokens.StaffApiTokenListView.as_view(), name="api_tokens"),
    path(
        "api-keys/<int:pk>/revoke/",
        api_tokens.StaffApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
    # Webhooks: the endpoints, and each one's delivery log.
    path("webhooks/", webhooks.StaffWebhookListView.as_view(), name="webhook_list"),
    path("webhooks/new/", webhooks.StaffWebhookCreateView.as_view(), name="webhook_create"),
    path("webhooks/<int:pk>/", webhooks.StaffWebhookDetailView.as_view(), name="webhook_detail"),
    path("webhooks/<int:pk>/edit/", webhooks.StaffWebhookEditView.as_view(), name="webhook_edit"),
    path(
        "webhooks/<int:pk>/secret/",
        webhooks.StaffWebhookSecretView.as_view(),
        name="webhook_secret",
    ),
    path(
        "webhooks/<int:pk>/delete/",
        webhooks.StaffWebhookDeleteView.as_view(),
        name="webhook_delete",
    ),
    path("webhooks/<int:pk>/test/", webhooks.StaffWebhookTestView.as_view(), name="webhook_test"),
    path(
        "webhook-deliveries/<int:pk>/resend/",
        webhooks.StaffWebhookResendView.as_view(),
        name="webhook_resend",
    ),
    # The team: staff, roles and invitations.
    path("team/", team.StaffTeamView.as_view(), name="team"),
    path(
        "team/invitations/<int:pk>/revoke/",
        team.StaffInvitationRevokeView.as_view(),
        name="staff_invitation_revoke",
    ),
    path("team/<int:pk>/role/", team.StaffRoleChangeView.as_view(), name="team_role_change"),
    path("team/<int:pk>/remove/", team.StaffRoleRemoveView.as_view(), name="team_remove"),
    # The organisation's settings, and its stores (a store's kiosks: surveys.urls).
    path("settings/", settings.StaffSettingsView.as_view(), name="settings"),
    # The audit log (owners only) and its CSV export.
    path("audit/", audit.StaffAuditLogView.as_view(), name="audit_log"),
    path("audit/export.csv", audit.StaffAuditExportView.as_view(), name="audit_export"),
    path("stores/", locations.StaffLocationListView.as_view(), name="location_list"),
    path("stores/new/", locations.StaffLocationCreateView.as_view(), name="location_create"),
    path("stores/<int:pk>/", locations.StaffLocationDetailView.as_view(), name="location_detail"),
    path(
        "stores/<int:pk>/archive/",
        locations.StaffLocationArchiveView.as_view(),
        name="location_archive",
    ),
    path(
        "stores/<int:pk>/unarchive/",
        locations.StaffLocationUnarchiveView.as_view(),
        name="location_unarchive",
    ),
    # Communities and their custom attributes.
    path("communities/", communities.StaffCommunityListView.as_view(), name="community_list"),
    path(
        "communities/new/", communities.StaffCommunityCreateView.as_view(), name="community_create"
    ),
    path(
        "communities/<int:pk>/",
        communities.StaffCommunityDetailView.as_view(),
        name="community_detail",
    ),
    path(
        "communities/<int:pk>/edit/",
        communities.StaffCommunityEditView.as_view(),
        name="community_edit",
    ),
    path(
        "communities/<int:pk>/attributes/",
        communities.StaffAttributeListView.as_view(),
        name="attribute_list",
    ),
    path(
        "attributes/<int:pk>/", communities.StaffAttributeEditView.as_view(), name="attribute_edit"
    ),
    path(
        "attributes/<int:pk>/delete/",
        communities.StaffAttributeDeleteView.as_view(),
        name="attribute_delete",
    ),
    # Members, imports and segments of one community.
    path(
        "communities/<int:pk>/members/",
        members.MemberListView.as_view(),
        name="member_list",
    ),
    path(
        "communities/<int:pk>/members/new/",
        members.MemberAddView.as_view(),
        name="member_add",
    ),
    path(
        "communities/<int:pk>/members/invite/",
        members.MemberInviteView.as_view(),
        name="member_invite",
    ),
    path(
        "communities/<int:pk>/members/import/",
        imports.MemberImportCreateView.as_view(),
        name="member_import_create",
    ),
    path("members/<int:pk>/", members.MemberDetailView.as_view(), name="member_detail"),
    path(
        "imports/<int:pk>/",
        imports.MemberImportDetailView.as_view(),
        name="member_import_detail",
    ),
    path(
        "imports/<int:pk>/confirm/",
        imports.MemberImportConfirmView.as_view(),
        name="member_import_confirm",
    ),
    path(
        "imports/<int:pk>/problems.csv",
        imports.MemberImportErrorsView.as_view(),
        name="member_import_errors",
    ),
    path(
        "communities/<int:pk>/segments/",
        segments.SegmentListView.as_view(),
        name="segment_list",
    ),
    path(
        "communities/<int:pk>/segments/new/",
        segments.SegmentCreateView.as_view(),
        name="segment_create",
    ),
    path(
        "communities/<int:pk>/segments/count/",
        segments.SegmentCountView.as_view(),
        name="segment_count",
    ),
    path("segments/<int:pk>/", segments.SegmentEditView.as_view(), name="segment_edit"),
    path(
        "segments/<int:pk>/delete/",
        segments.SegmentDeleteView.as_view(),
        name="segment_delete",
    ),
]

# Member-facing pages of one community, under the namespace "community" (config/urls.py).
_C = "c/<slug:org>/<slug:community>/"
member_urlpatterns = [
    path(f"{_C}join/", member_pages.MemberJoinView.as_view(), name="join"),
    path(f"{_C}join/sent/", member_pages.MemberJoinSentView.as_view(), name="join_sent"),
    path(f"{_C}confirm/<str:signed>/", member_links.MemberConfirmView.as_view(), name="confirm"),
    path(
        f"{_C}invitation/<str:signed>/",
        member_links.MemberInvitationView.as_view(),
        name="invitation",
    ),
    path(f"{_C}profile/", member_pages.MemberProfileView.as_view(), name="profile"),
    path(f"{_C}consent/", member_pages.MemberConsentView.as_view(), name="consent"),
    path(f"{_C}my-data/", member_pages.MemberMyDataView.as_view(), name="my_data"),
    path(f"{_C}my-data/export/", member_pages.MemberExportView.as_view(), name="export"),
    path(f"{_C}my-data/erase/", member_pages.MemberEraseView.as_view(), name="erase"),
]
