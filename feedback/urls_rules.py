"""Staff URLs of the follow-up rules (names under the "staff" namespace)."""

from django.urls import path

from feedback.views import rules as views

staff_urlpatterns: list = [
    path("rules/", views.StaffRuleListView.as_view(), name="rule_list"),
    path("rules/new/", views.StaffRuleCreateView.as_view(), name="rule_create"),
    path("rules/reorder/", views.StaffRuleReorderView.as_view(), name="rule_reorder"),
    path("rules/<int:pk>/", views.StaffRuleEditView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/delete/", views.StaffRuleDeleteView.as_view(), name="rule_delete"),
]
