from django.db.models import QuerySet

from communities.models import Organisation, StaffRole, User


def staff_organisations(*, user: User) -> QuerySet[Organisation]:
    """Organisations the user holds a staff role in."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(staff_roles__user=user).order_by("name")


def staff_role(*, user: User, organisation_slug: str) -> StaffRole | None:
    """The user's role in the organisation with this slug, or None for an outsider."""
    if not user.is_authenticated:
        return None
    return (
        StaffRole.objects.select_related("organisation")
        .filter(user=user, organisation__slug=organisation_slug)
        .first()
    )
