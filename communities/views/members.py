"""Staff pages for a community's members: the list, one member, add and invite.

Every view inherits StaffScopedMixin and fetches through the organisation, so another
organisation's community or member id answers 404. Owners, admins and analysts may read;
only owners and admins may change anything.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities import flows
from communities.choices import MemberStatus
from communities.forms.attributes import attribute_display, attribute_label
from communities.forms.staff import (
    MemberAddForm,
    MemberEditForm,
    MemberFilterForm,
    MemberInviteForm,
)
from communities.formviews import StaffFormView
from communities.member_data import member_staff_overview
from communities.models import AttributeDefinition, Member, Segment
from communities.permissions import can_manage, can_read_results
from communities.selectors import community_members, member_status_counts, members_matching
from communities.services.attributes import community_attributes
from communities.services.members import member_create, member_update
from communities.services.segments import segment_filter_clean
from communities.views.communities import CommunityPage, CommunityPageMixin
from config.ratelimit import rate_limited

MEMBERS_PER_PAGE = 50
SORTS = {
    "joined": F("joined_at").desc(nulls_last=True),
    "-joined": F("joined_at").asc(nulls_last=True),
    "active": F("last_active_at").desc(nulls_last=True),
    "-active": F("last_active_at").asc(nulls_last=True),
    "name": F("name").asc(),
}


# --- the member list and one member ---------------------------------------------------------


class MemberListView(CommunityPage):
    template_name = "communities/staff_member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community()
        definitions = community_attributes(community=community)
        segments = list(
            Segment.objects.for_organisation(self.organisation).filter(community=community)
        )
        query = self.request.GET
        form = MemberFilterForm(query or None, definitions=definitions)
        segment = None
        if query.get("segment"):
            segment = next((s for s in segments if str(s.pk) == query["segment"]), None)
            if segment is None:
                form.add_error(None, _("That segment does not exist."))
        members = community_members(community=community).none()
        if form.is_bound and form.is_valid() and not form.errors:
            try:
                clean = segment_filter_clean(
                    community=community, filter=form.filter(), definitions=definitions
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                members = members_matching(community=community, filter=clean)
                if segment is not None:
                    members = members & members_matching(community=community, filter=segment.filter)
        elif not form.is_bound:
            members = community_members(community=community)
        sort = query.get("sort") if query.get("sort") in SORTS else "joined"
        members = members.order_by(SORTS[sort], "-pk").only(
            "pk", "email", "name", "status", "attributes", "joined_at", "last_active_at"
        )
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(query.get("page"))
        keep = query.copy()
        keep.pop("page", None)
        keep_sort = keep.copy()
        keep_sort.pop("sort", None)
        context.update(
            form=form,
            segments=segments,
            segment=segment,
            page=page,
            rows=[
                (member, [attribute_display(d, member.attributes.get(d.key)) for d in definitions])
                for member in page.object_list
            ],
            definitions=[(d, attribute_label(d)) for d in definitions],
            status_counts=self._status_counts(community),
            sort=sort,
            query_string=keep.urlencode(),
            sort_query_string=keep_sort.urlencode(),
        )
        return context

    def _status_counts(self, community):
        counts = member_status_counts(community=community)
        return {
            "total": sum(counts.values()),
            "by_status": [
                (label, counts[value]) for value, label in MemberStatus.choices if value in counts
            ],
        }


class MemberDetailView(StaffFormView):
    """One member: what the organisation holds about them; owners and admins edit it here."""

    template_name = "communities/staff_member_detail.html"
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    form_class = MemberEditForm
    success_message = gettext_lazy("Member saved.")

    def get_member(self) -> Member:
        if not hasattr(self, "member"):
            self.member = get_object_or_404(
                Member.objects.for_organisation(self.organisation)
                .filter(erased_at__isnull=True)
                .exclude(status=MemberStatus.ERASED)
                .select_related("community__organisation", "referred_by"),
                pk=self.kwargs["pk"],
            )
        return self.member

    def get_definitions(self) -> list[AttributeDefinition]:
        if not hasattr(self, "definitions"):
            self.definitions = community_attributes(community=self.get_member().community)
        return self.definitions

    def get_form(self, form_class=None) -> MemberEditForm | None:
        # Readers see the member without the edit form.
        return super().get_form(form_class) if can_manage(self.role) else None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "member": self.get_member(),
            "definitions": self.get_definitions(),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["form"] is None:  # a reader's page has no edit form at all
            del context["form"]
        member = self.get_member()
        context.update(
            member=member,
            community=member.community,
            overview=member_staff_overview(organisation=self.organisation, member=member),
            attributes=[
                (attribute_label(d), attribute_display(d, member.attributes.get(d.key)))
                for d in self.get_definitions()
            ],
            can_manage=can_manage(self.role),
        )
        return context

    def form_save(self, form: MemberEditForm) -> Member:
        return member_update(
            member=self.get_member(),
            name=form.cleaned_data["name"],
            locale=form.cleaned_data["locale"],
            attributes=form.attribute_values(),
        )

    def form_invalid(self, form: MemberEditForm, status: int = 400) -> HttpResponse:
        # The page shows the member as stored, not as the refused edit had it.
        self.get_member().refresh_from_db()
        return super().form_invalid(form, status=status)

    def get_success_url(self) -> str:
        return reverse("staff:member_detail", args=[self.organisation.slug, self.get_member().pk])


# --- add and invite one person --------------------------------------------------------------


class MemberAddView(CommunityPageMixin, StaffFormView):
    template_name = "communities/staff_member_add.html"
    permission = staticmethod(can_manage)
    form_class = MemberAddForm

    def get_form_kwargs(self) -> dict[str, Any]:
        community = self.get_community()
        return {
            **super().get_form_kwargs(),
            "community": community,
            "definitions": community_attributes(community=community),
        }

    def form_save(self, form: MemberAddForm) -> Member:
        return member_create(
            community=self.get_community(),
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            locale=form.cleaned_data["locale"],
            attributes=form.attribute_values(),
            consent_channel="staff",
        )

    def get_success_message(self, form: MemberAddForm) -> str:
        return _("%(email)s is now a member.") % {"email": self.saved.email}

    def get_success_url(self) -> str:
        return reverse("staff:member_detail", args=[self.organisation.slug, self.saved.pk])


class MemberInviteView(CommunityPageMixin, StaffFormView):
    template_name = "communities/staff_member_invite.html"
    permission = staticmethod(can_manage)
    form_class = MemberInviteForm
    service_error_statuses = {"rate_limited": 429}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "community": self.get_community()}

    def form_save(self, form: MemberInviteForm) -> Member:
        if rate_limited(
            scope="member-invite", key=str(self.organisation.pk), limit=200, window=3600
        ):
            raise ValidationError(
                _("Too many invitations in the last hour. Try again later."), code="rate_limited"
            )
        return flows.member_invite(
            community=self.get_community(),
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            locale=form.cleaned_data["locale"],
            invited_by=self.request.user,
        )

    def get_success_message(self, form: MemberInviteForm) -> str:
        return _("Invitation sent to %(email)s.") % {"email": self.saved.email}

    def get_success_url(self) -> str:
        return reverse("staff:member_detail", args=[self.organisation.slug, self.saved.pk])
