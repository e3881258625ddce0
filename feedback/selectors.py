from django.db.models import QuerySet

from communities.models import Organisation
from feedback.models import Case


def case_list(*, organisation: Organisation, status: str | None = None) -> QuerySet[Case]:
    cases = Case.objects.for_organisation(organisation).select_related(
        "response__survey", "assignee"
    )
    if status:
        cases = cases.filter(status=status)
    return cases.order_by("-created_at")
