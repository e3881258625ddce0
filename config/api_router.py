"""Every API route in one place. Staff endpoints live under /api/v1/<org>/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from communities.api import views as communities_api
from rewards.api import views as rewards_api
from surveys.api import views as surveys_api

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/<slug:org>/surveys/", surveys_api.SurveyListAPI.as_view(), name="survey_list"),
    path(
        "v1/<slug:org>/surveys/<int:pk>/",
        surveys_api.SurveyDetailAPI.as_view(),
        name="survey_detail",
    ),
    path("v1/<slug:org>/events/", surveys_api.EventReceiveAPI.as_view(), name="event_receive"),
    path(
        "v1/<slug:org>/events/<int:pk>/", surveys_api.EventDetailAPI.as_view(), name="event_detail"
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/responses/",
        surveys_api.SurveyResponseListAPI.as_view(),
        name="survey_response_list",
    ),
    # Communities, members and segments: staff sessions or an organisation API key.
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
    # Rewards: the catalogue, redemptions and their decisions, a member's points.
    path("v1/<slug:org>/rewards/", rewards_api.RewardListAPI.as_view(), name="reward_list"),
    path(
        "v1/<slug:org>/rewards/<int:pk>/",
        rewards_api.RewardDetailAPI.as_view(),
        name="reward_detail",
    ),
    path(
        "v1/<slug:org>/redemptions/",
        rewards_api.RedemptionListAPI.as_view(),
        name="redemption_list",
    ),
    path(
        "v1/<slug:org>/redemptions/<int:pk>/",
        rewards_api.RedemptionDetailAPI.as_view(),
        name="redemption_detail",
    ),
    path(
        "v1/<slug:org>/redemptions/<int:pk>/approve/",
        rewards_api.RedemptionApproveAPI.as_view(),
        name="redemption_approve",
    ),
    path(
        "v1/<slug:org>/redemptions/<int:pk>/reject/",
        rewards_api.RedemptionRejectAPI.as_view(),
        name="redemption_reject",
    ),
    path(
        "v1/<slug:org>/redemptions/<int:pk>/fulfil/",
        rewards_api.RedemptionFulfilAPI.as_view(),
        name="redemption_fulfil",
    ),
    path(
        "v1/<slug:org>/members/<int:pk>/points/",
        rewards_api.MemberPointsAPI.as_view(),
        name="member_points",
    ),
]
