"""surveys' API routes, included under /api/ by config/api_router.py (namespace "api")."""

from django.urls import path

from surveys.api import questions, responses, surveys
from surveys.api import views as surveys_api
from surveys.api.results import SurveyResultsAPI

urlpatterns = [
    path("v1/<slug:org>/surveys/", surveys.SurveyListAPI.as_view(), name="survey_list"),
    path(
        "v1/<slug:org>/surveys/<int:pk>/", surveys.SurveyDetailAPI.as_view(), name="survey_detail"
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/publish/",
        surveys.SurveyPublishAPI.as_view(),
        name="survey_publish",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/close/",
        surveys.SurveyCloseAPI.as_view(),
        name="survey_close",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/duplicate/",
        surveys.SurveyDuplicateAPI.as_view(),
        name="survey_duplicate",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/",
        questions.SurveyQuestionListAPI.as_view(),
        name="survey_question_list",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/reorder/",
        questions.SurveyQuestionReorderAPI.as_view(),
        name="survey_question_reorder",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/<int:qid>/",
        questions.SurveyQuestionDetailAPI.as_view(),
        name="survey_question_detail",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/<int:qid>/choices/",
        questions.SurveyChoiceListAPI.as_view(),
        name="survey_choice_list",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/<int:qid>/choices/reorder/",
        questions.SurveyChoiceReorderAPI.as_view(),
        name="survey_choice_reorder",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/questions/<int:qid>/choices/<int:cid>/",
        questions.SurveyChoiceDetailAPI.as_view(),
        name="survey_choice_detail",
    ),
    path("v1/<slug:org>/events/", surveys_api.EventReceiveAPI.as_view(), name="event_receive"),
    path(
        "v1/<slug:org>/events/<int:pk>/", surveys_api.EventDetailAPI.as_view(), name="event_detail"
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/responses/",
        responses.SurveyResponseListAPI.as_view(),
        name="survey_response_list",
    ),
    path("v1/<slug:org>/responses/", responses.ResponseListAPI.as_view(), name="response_list"),
    path(
        "v1/<slug:org>/responses/<int:pk>/",
        responses.ResponseDetailAPI.as_view(),
        name="response_detail",
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/results/",
        SurveyResultsAPI.as_view(),
        name="survey_results",
    ),
]
