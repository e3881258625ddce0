"""Staff pages for segments: saved member filters of a community, with a live count.

Another organisation's community or segment id answers 404. Owners, admins and analysts
may read; only owners and admins may change anything.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from communities.forms.staff import MemberFilterForm, SegmentForm
from communities.formviews import StaffActionView, StaffFormView
from communities.models import Community, Segment
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import community_members, members_matching, segment_counts
from communities.services.attributes import community_attributes
from communities.services.segments import (
    segment_create,
    segment_delete,
    segment_filter_clean,
    segment_update,
)
from communities.views.communities import CommunityPage


class SegmentListView(CommunityPage):
    template_name = "communities/staff_segment_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segments = list(
            Segment.objects.for_organisation(self.organisation).filter(community=self.community)
        )
        counts = segment_counts(community=self.community, segments=segments)
        context["segments"] = [(segment, counts.get(segment.pk)) for segment in segments]
        context["member_total"] = community_members(community=self.community).count()
        return context


class _SegmentFormPage(StaffFormView):
    """A segment's name and filter; the page counts the members it selects as it changes."""

    template_name = "communities/staff_segment_form.html"
    permission = staticmethod(can_manage)
    form_class = SegmentForm

    @abstractmethod
    def get_community(self) -> Community:
        """The community the segment is (or will be) of."""

    def get_segment(self) -> Segment | None:
        return None

    @abstractmethod
    def member_count(self) -> int | None:
        """How many members the form selects as it is first shown."""

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "definitions": community_attributes(community=self.get_community()),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            community=self.get_community(),
            segment=self.get_segment(),
            count_url=reverse(
                "staff:segment_count", args=[self.organisation.slug, self.get_community().pk]
            ),
        )
        # A fresh form shows how many members it selects; a refused one leaves that to the
        # page's live count.
        context.setdefault("count", None if context["form"].is_bound else self.member_count())
        return context

    def service_errors_put(self, form: SegmentForm, exc: ValidationError) -> None:
        form.add_service_errors(exc)

    def get_success_message(self, form: SegmentForm) -> str:
        return _("Segment “%(name)s” saved.") % {"name": self.saved.name}

    def get_success_url(self) -> str:
        return reverse("staff:segment_list", args=[self.organisation.slug, self.get_community().pk])


class SegmentCreateView(_SegmentFormPage):
    def get_community(self) -> Community:
        if not hasattr(self, "community"):
            self.community = get_object_or_404(
                Community.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
            )
        return self.community

    def member_count(self) -> int:
        return community_members(community=self.get_community()).count()

    def form_save(self, form: SegmentForm) -> Segment:
        return segment_create(
            community=self.get_community(), name=form.cleaned_data["name"], filter=form.filter()
        )


class SegmentEditView(_SegmentFormPage):
    def get_segment(self) -> Segment:
        if not hasattr(self, "segment"):
            self.segment = get_object_or_404(
                Segment.objects.for_organisation(self.organisation).select_related("community"),
                pk=self.kwargs["pk"],
            )
        return self.segment

    def get_community(self) -> Community:
        return self.get_segment().community

    def get_initial(self) -> dict[str, Any]:
        segment = self.get_segment()
        return {"name": segment.name, **SegmentForm.initial_from(segment.filter)}

    def member_count(self) -> int | None:
        segment = self.get_segment()
        return segment_counts(community=segment.community, segments=[segment]).get(segment.pk)

    def form_save(self, form: SegmentForm) -> Segment:
        return segment_update(
            segment=self.get_segment(), name=form.cleaned_data["name"], filter=form.filter()
        )


class SegmentDeleteView(StaffActionView):
    permission = staticmethod(can_manage)
    model = Segment

    def act(self, segment: Segment) -> HttpResponse:
        segment_delete(segment=segment)
        messages.success(self.request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect(self.refused_url(segment))

    def refused_url(self, segment: Segment) -> str:
        return reverse("staff:segment_list", args=[self.organisation.slug, segment.community_id])


class SegmentCountView(StaffScopedMixin, View):
    """How many members an unsaved filter selects, for the live count on the segment form."""

    permission = staticmethod(can_read_results)

    def get(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        community = get_object_or_404(Community.objects.for_organisation(self.organisation), pk=pk)
        definitions = community_attributes(community=community)
        form = MemberFilterForm(request.GET, definitions=definitions)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        try:
            clean = segment_filter_clean(
                community=community, filter=form.filter(), definitions=definitions
            )
        except ValidationError as exc:
            return JsonResponse({"errors": exc.message_dict}, status=400)
        count = members_matching(community=community, filter=clean).count()
        return JsonResponse({"count": count})
