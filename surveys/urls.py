from django.urls import path

from surveys.exports.urls import export_urlpatterns
from surveys.views import builder, community, distribution, invitations, kiosk, respond, results

app_name = "surveys"

urlpatterns = [
    path("s/<str:public_id>/", respond.SurveyRespondView.as_view(), name="survey_respond"),
    path("s/<str:public_id>/thanks/", respond.SurveyThanksView.as_view(), name="survey_thanks"),
    path("i/<str:signed>/", invitations.InvitationOpenView.as_view(), name="invitation_open"),
    path("u/<str:signed>/", invitations.UnsubscribeView.as_view(), name="unsubscribe"),
    path("k/<str:device_token>/", kiosk.KioskView.as_view(), name="kiosk"),
    path(
        "k/<str:device_token>/responses/",
        kiosk.KioskSubmitView.as_view(),
        name="kiosk_submit",
    ),
    path("k/<str:device_token>/sw.js", kiosk.KioskServiceWorkerView.as_view(), name="kiosk_sw"),
    path(
        "c/<slug:org>/<slug:community>/",
        community.CommunityHomeView.as_view(),
        name="community_home",
    ),
    path(
        "c/<slug:org>/<slug:community>/privacy/",
        community.CommunityPrivacyView.as_view(),
        name="community_privacy",
    ),
]

staff_urlpatterns = [
    path("surveys/", results.StaffSurveyListView.as_view(), name="survey_list"),
    path("surveys/new/", builder.StaffSurveyCreateView.as_view(), name="survey_create"),
    path("surveys/<int:pk>/", results.StaffSurveyResultsView.as_view(), name="survey_results"),
    path("surveys/<int:pk>/edit/", builder.StaffSurveyEditView.as_view(), name="survey_edit"),
    path(
        "surveys/<int:pk>/preview/", builder.StaffSurveyPreviewView.as_view(), name="survey_preview"
    ),
    path(
        "surveys/<int:pk>/duplicate/",
        builder.StaffSurveyDuplicateView.as_view(),
        name="survey_duplicate",
    ),
    path(
        "surveys/<int:pk>/publish/", builder.StaffSurveyPublishView.as_view(), name="survey_publish"
    ),
    path("surveys/<int:pk>/close/", builder.StaffSurveyCloseView.as_view(), name="survey_close"),
    path(
        "surveys/<int:pk>/reorder/", builder.StaffSurveyReorderView.as_view(), name="survey_reorder"
    ),
    path(
        "surveys/<int:pk>/questions/new/",
        builder.StaffQuestionAddView.as_view(),
        name="question_add",
    ),
    path(
        "surveys/<int:pk>/distribute/",
        distribution.StaffSurveyDistributeView.as_view(),
        name="survey_distribute",
    ),
    path("batches/<int:pk>/", distribution.StaffBatchDetailView.as_view(), name="batch_detail"),
    path(
        "kiosks/<int:pk>/revoke/", distribution.StaffKioskRevokeView.as_view(), name="kiosk_revoke"
    ),
    # A tab of the store's page (communities' staff:location_detail).
    path(
        "stores/<int:pk>/kiosks/", kiosk.StaffLocationKiosksView.as_view(), name="location_kiosks"
    ),
    path("questions/<int:pk>/", builder.StaffQuestionEditView.as_view(), name="question_edit"),
    path(
        "questions/<int:pk>/delete/",
        builder.StaffQuestionDeleteView.as_view(),
        name="question_delete",
    ),
    path(
        "questions/<int:pk>/restore/",
        builder.StaffQuestionRestoreView.as_view(),
        name="question_restore",
    ),
    path("questions/<int:pk>/move/", builder.StaffQuestionMoveView.as_view(), name="question_move"),
    # Response exports: the export page, the streamed CSV, a prepared file's progress and link.
    *export_urlpatterns,
]
