from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:public_id>/", views.SurveyRespondView.as_view(), name="survey_respond"),
    path("s/<str:public_id>/thanks/", views.SurveyThanksView.as_view(), name="survey_thanks"),
]

staff_urlpatterns = [
    path("surveys/", views.StaffSurveyListView.as_view(), name="survey_list"),
    path("surveys/<int:pk>/", views.StaffSurveyResultsView.as_view(), name="survey_results"),
]
