"""communities' API routes, included under /api/ by config/api_router.py (namespace "api")."""

from django.urls import path

from communities.api import views as communities_api

urlpatterns = [
    path(
        "v1/<slug:org>/communities/",
        communities_api.CommunityListAPI.as_view(),
        name="community_list",
    ),
    path(
        "v1/<slug:org>/communities/<int:pk>/",
        communities_api.CommunityDetailAPI.as_view(),
        name="community_detail",
    ),
    path(
        "v1/<slug:org>/communities/<int:pk>/members/",
        communities_api.CommunityMemberListAPI.as_view(),
        name="community_member_list",
    ),
    path(
        "v1/<slug:org>/communities/<int:pk>/members/invite/",
        communities_api.CommunityMemberInviteAPI.as_view(),
        name="community_member_invite",
    ),
    path(
        "v1/<slug:org>/communities/<int:pk>/segments/",
        communities_api.CommunitySegmentListAPI.as_view(),
        name="community_segment_list",
    ),
    path(
        "v1/<slug:org>/members/<int:pk>/",
        communities_api.MemberDetailAPI.as_view(),
        name="member_detail",
    ),
    path(
        "v1/<slug:org>/segments/<int:pk>/members/",
        communities_api.SegmentMemberListAPI.as_view(),
        name="segment_member_list",
    ),
]
