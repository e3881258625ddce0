"""Staff: sending a survey out (email batches and their progress, kiosks)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from communities.forms import service_errors_apply
from communities.permissions import can_manage
from communities.scoping import StaffScopedMixin
from surveys.choices import ChannelKind
from surveys.forms.distribution import InvitationSendForm, KioskRegisterForm
from surveys.models import Channel, InvitationBatch, Survey
from surveys.recipients import batches_summarised
from surveys.selectors import batch_progress, survey_batches, survey_kiosks
from surveys.services.invitations import INVALID_LINES_KEY, invitation_batch_create
from surveys.services.kiosks import kiosk_register, kiosk_revoke
from surveys.views.builder import StaffPostActionView


class StaffSurveyDistributeView(StaffScopedMixin, DetailView):
    """Where a survey goes out: its public link, email sends and kiosks."""

    template_name = "surveys/staff_survey_distribute.html"
    permission = staticmethod(can_manage)
    model = Survey
    context_object_name = "survey"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.object
        context.update(
            send_form=kwargs.get("send_form") or InvitationSendForm(organisation=self.organisation),
            kiosk_form=kwargs.get("kiosk_form")
            or KioskRegisterForm(organisation=self.organisation),
            batches=batches_summarised(batches=survey_batches(survey=survey)),
            kiosks=survey_kiosks(survey=survey),
            public_url=self.request.build_absolute_uri(
                reverse("surveys:survey_respond", args=[survey.public_id])
            ),
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        if "location" in request.POST:
            return self._register_kiosk()
        form = InvitationSendForm(request.POST, organisation=self.organisation)
        if form.is_valid():
            try:
                batch = invitation_batch_create(
                    survey=self.object,
                    created_by=request.user,
                    community=form.cleaned_data["community"],
                    recipients=form.recipient_pairs,
                )
            except ValidationError as exc:
                service_errors_apply(form, exc, {})
            else:
                messages.success(
                    request, _("The survey is being sent; this page shows how far it has got.")
                )
                return redirect("staff:batch_detail", self.organisation.slug, batch.pk)
        return self.render_to_response(self.get_context_data(send_form=form), status=400)

    def _register_kiosk(self) -> HttpResponse:
        form = KioskRegisterForm(self.request.POST, organisation=self.organisation)
        if form.is_valid():
            try:
                kiosk_register(survey=self.object, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_apply(form, exc, {})
            else:
                messages.success(self.request, _("Kiosk registered: open its link on the tablet."))
                return redirect("staff:survey_distribute", self.organisation.slug, self.object.pk)
        return self.render_to_response(self.get_context_data(kiosk_form=form), status=400)


class StaffBatchDetailView(StaffScopedMixin, DetailView):
    template_name = "surveys/staff_batch_detail.html"
    permission = staticmethod(can_manage)
    model = InvitationBatch
    context_object_name = "batch"

    def scope_queryset(self, queryset):
        return queryset.select_related("survey", "community")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = batches_summarised(batches=[self.object])[0]
        context.update(
            batch=batch,
            progress=batch_progress(batch=batch),
            invalid_lines=batch.skipped.get(INVALID_LINES_KEY, []),
        )
        return context


class StaffKioskRevokeView(StaffPostActionView):
    model = Channel

    def scope_queryset(self, queryset):
        return queryset.filter(kind=ChannelKind.KIOSK)

    def act(self, channel: Channel) -> HttpResponse:
        kiosk_revoke(channel=channel)
        messages.success(self.request, _("The kiosk is switched off; its link no longer works."))
        return redirect("staff:survey_distribute", self.organisation.slug, channel.survey_id)
