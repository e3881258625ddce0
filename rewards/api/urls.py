"""rewards' API routes, included under /api/ by config/api_router.py (namespace "api")."""

from django.urls import path

from rewards.api import views as rewards_api

urlpatterns = [
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
