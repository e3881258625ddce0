from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:public_id>/", views.SurveyRespondView.as_view(), name="survey_respond"),
    path("s/<str:public_id>/thanks/", views.SurveyThanksView.as_view(), name="survey_thanks"),
    path("i/<str:signed>/", views.InvitationOpenView.as_view(), name="invitation_open"),
    path("u/<str:signed>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("k/<str:device_token>/", views.KioskView.as_view(), name="kiosk"),
    path(
        "k/<str:device_token>/responses/",
        views.KioskSubmitView.as_view(),
        name="kiosk_submit",
    ),
    path("k/<str:device_token>/sw.js", views.KioskServiceWorkerView.as_view(), name="kiosk_sw"),
    path(
        "c/<slug:org>/<slug:community>/", views.CommunityHomeView.as_view(), name="community_home"
    ),
    path(
        "c/<slug:org>/<slug:community>/privacy/",
        views.CommunityPrivacyView.as_view(),
        name="community_privacy",
    ),
]

staff_urlpatterns = [
    path("surveys/", views.StaffSurveyListView.as_view(), name="survey_list"),
    path("surveys/new/", views.StaffSurveyCreateView.as_view(), name="survey_create"),
    path("surveys/<int:pk>/", views.StaffSurveyResultsView.as_view(), name="survey_results"),
    path("surveys/<int:pk>/edit/", views.StaffSurveyEditView.as_view(), name="survey_edit"),
    path(
        "surveys/<int:pk>/preview/", views.StaffSurveyPreviewView.as_view(), name="survey_preview"
    ),
    path(
        "surveys/<int:pk>/duplicate/",
        views.StaffSurveyDuplicateView.as_view(),
        name="survey_duplicate",
    ),
    path(
        "surveys/<int:pk>/publish/", views.StaffSurveyPublishView.as_view(), name="survey_publish"
    ),
    path("surveys/<int:pk>/close/", views.StaffSurveyCloseView.as_view(), name="survey_close"),
    path(
        "surveys/<int:pk>/reorder/", views.StaffSurveyReorderView.as_view(), name="survey_reorder"
    ),
    path(
        "surveys/<int:pk>/questions/new/",
        views.StaffQuestionAddView.as_view(),
        name="question_add",
    ),
    path(
        "surveys/<int:pk>/distribute/",
        views.StaffSurveyDistributeView.as_view(),
        name="survey_distribute",
    ),
    path("batches/<int:pk>/", views.StaffBatchDetailView.as_view(), name="batch_detail"),
    path("kiosks/<int:pk>/revoke/", views.StaffKioskRevokeView.as_view(), name="kiosk_revoke"),
    path("questions/<int:pk>/", views.StaffQuestionEditView.as_view(), name="question_edit"),
    path(
        "questions/<int:pk>/delete/",
        views.StaffQuestionDeleteView.as_view(),
        name="question_delete",
    ),
    path(
        "questions/<int:pk>/restore/",
        views.StaffQuestionRestoreView.as_view(),
        name="question_restore",
    ),
    path("questions/<int:pk>/move/", views.StaffQuestionMoveView.as_view(), name="question_move"),
]
