"""The staff case pages: the inbox (feedback.views.inbox) and one case with its actions
(feedback.views.case)."""

from feedback.views.case import (
    StaffCaseAssignView,
    StaffCaseDetailView,
    StaffCaseNoteView,
    StaffCasePriorityView,
    StaffCaseReplyView,
    StaffCaseStatusView,
    StaffCaseTeamView,
)
from feedback.views.inbox import StaffCaseBulkView, StaffCaseListView

__all__ = [
    "StaffCaseAssignView",
    "StaffCaseBulkView",
    "StaffCaseDetailView",
    "StaffCaseListView",
    "StaffCaseNoteView",
    "StaffCasePriorityView",
    "StaffCaseReplyView",
    "StaffCaseStatusView",
    "StaffCaseTeamView",
]
