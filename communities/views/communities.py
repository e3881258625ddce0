"""Staff pages of the organisation's communities: the list, one community's overview,
creating and editing one, and its custom attributes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView

from communities.choices import LIFECYCLE_STATUSES, MemberStatus
from communities.forms.staff import AttributeForm, CommunityForm
from communities.formviews import StaffFormView
from communities.models import AttributeDefinition, Community
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import community_lifecycle_trend, community_list, member_status_counts
from communities.services.attributes import (
    attribute_create,
    attribute_delete,
    attribute_member_count,
    attribute_update,
)
from communities.services.communities import community_create, community_update

# Attribute services name the English label "label"; the form calls it "label_en".
LABEL_FIELDS = {"label": "label_en"}


class CommunityPageMixin(StaffScopedMixin):
    """A page about one community of the organisation (its id in the URL): another
    organisation's id answers 404. The context has the community and whether the role
    may change things."""

    model = Community
    permission = staticmethod(can_read_results)

    def scope_queryset(self, queryset: QuerySet[Community]) -> QuerySet[Community]:
        return queryset.select_related("organisation")

    def get_community(self) -> Community:
        if not hasattr(self, "community"):
            self.community = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self.community

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(community=self.get_community(), can_manage=can_manage(self.role))
        return context


class CommunityPage(CommunityPageMixin, TemplateView):
    """A page that shows one community's things (members, segments)."""


class StaffCommunityListView(StaffScopedMixin, TemplateView):
    template_name = "communities/staff_community_list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["communities"] = community_list(organisation=self.organisation)
        context["can_manage"] = can_manage(self.role)
        return context


def _community_fields(form: CommunityForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in CommunityForm.base_fields}


class StaffCommunityCreateView(StaffFormView):
    template_name = "communities/staff_community_form.html"
    permission = staticmethod(can_manage)
    form_class = CommunityForm

    def form_save(self, form: CommunityForm) -> Community:
        return community_create(
            organisation=self.organisation, actor=self.request.user, **_community_fields(form)
        )

    def get_success_message(self, form: CommunityForm) -> str:
        return _("Community “%(name)s” created.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:community_detail", args=[self.organisation.slug, self.saved.pk])


class StaffCommunityDetailView(CommunityPage):
    """A community's overview: members by status and the lifecycle trend."""

    template_name = "communities/staff_community_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community()
        counts = member_status_counts(community=community)
        snapshots = community_lifecycle_trend(community=community, days=30)
        for snapshot in snapshots:
            snapshot.lifecycle_counts = [snapshot.counts.get(s, 0) for s in LIFECYCLE_STATUSES]
        context.update(
            status_counts=[
                (status, label, counts.get(status, 0))
                for status, label in MemberStatus.choices
                if status != MemberStatus.ERASED
            ],
            member_total=sum(n for s, n in counts.items() if s != MemberStatus.ERASED),
            trend=lifecycle_chart(snapshots),
            snapshots=list(reversed(snapshots)),
            join_url=self.request.build_absolute_uri(
                reverse("surveys:community_home", args=[self.organisation.slug, community.slug])
            ),
            member_links=_member_links(self.organisation.slug, community.pk),
        )
        return context


def _member_links(org_slug: str, community_pk: int) -> list[tuple[str, str]]:
    """Links to the member pages, for those that exist in this build."""
    links = []
    for name, label in (
        ("staff:member_list", _("Members")),
        ("staff:member_import_create", _("Import a CSV")),
        ("staff:segment_list", _("Segments")),
    ):
        try:
            links.append((reverse(name, args=[org_slug, community_pk]), label))
        except NoReverseMatch:
            continue
    return links


LIFECYCLE_COLOURS = {
    MemberStatus.NEW: "#0d6efd",
    MemberStatus.ACTIVE: "#198754",
    MemberStatus.LAPSED: "#fd7e14",
    MemberStatus.CHURNED: "#dc3545",
}


def lifecycle_chart(snapshots: list, *, width: int = 600, height: int = 160) -> dict[str, Any]:
    """Polylines (one per lifecycle status) for an inline SVG of the daily counts."""
    if not snapshots:
        return {"lines": [], "width": width, "height": height}
    peak = (
        max(
            (
                snapshot.counts.get(status, 0)
                for snapshot in snapshots
                for status in LIFECYCLE_STATUSES
            ),
            default=0,
        )
        or 1
    )
    # One day of history still draws: a level line across the chart, not an empty box.
    drawn = snapshots if len(snapshots) > 1 else snapshots * 2
    step = width / (len(drawn) - 1)
    lines = []
    for status in LIFECYCLE_STATUSES:
        points = " ".join(
            f"{i * step:.1f},{height - 4 - (height - 8) * s.counts.get(status, 0) / peak:.1f}"
            for i, s in enumerate(drawn)
        )
        lines.append(
            {
                "status": status,
                "label": MemberStatus(status).label,
                "colour": LIFECYCLE_COLOURS[status],
                "points": points,
                "latest": snapshots[-1].counts.get(status, 0),
            }
        )
    return {
        "lines": lines,
        "width": width,
        "height": height,
        "peak": peak,
        "first": snapshots[0].day,
        "last": snapshots[-1].day,
    }


class StaffCommunityEditView(CommunityPageMixin, StaffFormView):
    template_name = "communities/staff_community_form.html"
    permission = staticmethod(can_manage)
    form_class = CommunityForm
    success_message = _("Changes saved.")

    def get_initial(self) -> dict[str, Any]:
        return CommunityForm.initial_from(self.get_community())

    def form_save(self, form: CommunityForm) -> Community:
        version = self.get_community().policy_version
        community = community_update(
            community=self.get_community(), actor=self.request.user, **_community_fields(form)
        )
        if community.policy_version != version:
            messages.info(
                self.request,
                _(
                    "Policy version %(version)d is published. Members will be asked "
                    "to accept it at their next visit."
                )
                % {"version": community.policy_version},
            )
        return community

    def get_success_url(self) -> str:
        return reverse("staff:community_detail", args=[self.organisation.slug, self.saved.pk])


# --- custom attributes -------------------------------------------------------------------


class StaffAttributeListView(CommunityPageMixin, StaffFormView):
    """A community's custom attributes, and the form that adds one."""

    template_name = "communities/staff_attribute_list.html"
    permission = staticmethod(can_manage)
    form_class = AttributeForm
    service_field_map = LABEL_FIELDS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["attributes"] = AttributeDefinition.objects.for_organisation(
            self.organisation
        ).filter(community=self.get_community())
        return context

    def form_save(self, form: AttributeForm) -> AttributeDefinition:
        data = form.cleaned_data
        return attribute_create(
            community=self.get_community(),
            key=data["key"],
            label=form.label(),
            kind=data["kind"],
            options=data["options"],
            required=data["required"],
            ask_on_join=data["ask_on_join"],
            position=data["position"],
        )

    def get_success_message(self, form: AttributeForm) -> str:
        return _("Attribute “%(key)s” added.") % {"key": self.saved.key}

    def get_success_url(self) -> str:
        return reverse(
            "staff:attribute_list", args=[self.organisation.slug, self.get_community().pk]
        )


class AttributePageMixin(StaffScopedMixin):
    """A page about one custom attribute of the organisation (its id in the URL)."""

    model = AttributeDefinition
    permission = staticmethod(can_manage)

    def scope_queryset(self, queryset: QuerySet[AttributeDefinition]):
        return queryset.select_related("community")

    def get_definition(self) -> AttributeDefinition:
        if not hasattr(self, "definition"):
            self.definition = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self.definition

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        definition = self.get_definition()
        context.update(definition=definition, community=definition.community)
        return context


class StaffAttributeEditView(AttributePageMixin, StaffFormView):
    template_name = "communities/staff_attribute_form.html"
    form_class = AttributeForm
    service_field_map = LABEL_FIELDS

    def get_initial(self) -> dict[str, Any]:
        return AttributeForm.initial_from(self.get_definition())

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "definition": self.get_definition()}

    def form_save(self, form: AttributeForm) -> AttributeDefinition:
        data = form.cleaned_data
        return attribute_update(
            definition=self.get_definition(),
            label=form.label(),
            kind=data["kind"],
            options=data["options"],
            required=data["required"],
            ask_on_join=data["ask_on_join"],
            position=data["position"],
        )

    def get_success_message(self, form: AttributeForm) -> str:
        return _("Attribute “%(key)s” saved.") % {"key": self.get_definition().key}

    def get_success_url(self) -> str:
        return reverse(
            "staff:attribute_list",
            args=[self.organisation.slug, self.get_definition().community_id],
        )


class StaffAttributeDeleteView(AttributePageMixin, TemplateView):
    """GET asks for confirmation (saying how many members hold a value); POST deletes.

    A confirmation button, not a form: there is nothing to validate or to show again."""

    template_name = "communities/staff_attribute_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["held"] = attribute_member_count(definition=self.get_definition())
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        definition = self.get_definition()
        community_id = definition.community_id
        cleared = attribute_delete(definition=definition)
        messages.success(
            request,
            ngettext(
                "Attribute “%(key)s” deleted; its value was removed from %(count)d member.",
                "Attribute “%(key)s” deleted; its value was removed from %(count)d members.",
                cleared,
            )
            % {"key": definition.key, "count": cleared},
        )
        return redirect("staff:attribute_list", self.organisation.slug, community_id)
