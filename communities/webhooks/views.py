"""Staff pages of the organisation's webhooks: the endpoints, a new one (its secret shown
once), editing, a new secret (shown once), deleting, and one endpoint's delivery log with
"Resend" per delivery and "Send test event".

Owners and admins only (`can_manage`), for reading too: an endpoint's URL may carry a
receiver's token in its path, and the log shows what receivers answered. Analysts and
agents get 403; another organisation 404, as on every staff page.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from django.views.generic.detail import SingleObjectMixin

from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.permissions import can_manage
from communities.scoping import StaffScopedMixin
from communities.views.audit import keyset_page
from communities.views.settings import organisation_time_zone
from communities.webhooks import services
from communities.webhooks.choices import (
    AttemptError,
    DeliveryStatus,
    DisabledReason,
    WebhookEvent,
)
from communities.webhooks.forms import (
    DeliveryFilterForm,
    WebhookEndpointEditForm,
    WebhookEndpointForm,
)
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from communities.webhooks.staff import (
    webhook_deliveries,
    webhook_endpoint_health,
    webhook_endpoints,
)

DELIVERIES_PER_PAGE = 25
# A cursor is a delivery id; anything else in ?older= / ?newer= means the first page.
_CURSOR = re.compile(r"[0-9]{1,18}")
_EVENT_LABELS = dict(WebhookEvent.choices)
_ERROR_LABELS = dict(AttemptError.choices)
_STATUS_LABELS = dict(DeliveryStatus.choices)
_IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def event_labels(events: list[str]) -> list[str]:
    """The events as people read them, in the active language (an unknown one as itself)."""
    return [str(_EVENT_LABELS.get(event, event)) for event in events]


def _no_store(page: HttpResponse) -> HttpResponse:
    # A page holding a secret: neither the browser nor a proxy may keep it.
    page["Cache-Control"] = "no-store"
    return page


class _WebhookPage(StaffScopedMixin):
    permission = staticmethod(can_manage)
    model = WebhookEndpoint
    context_object_name = "endpoint"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            time_zone=organisation_time_zone(self.organisation), failing=DisabledReason.FAILING
        )
        return context

    def log_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("staff:webhook_detail", args=[self.organisation.slug, endpoint.pk])


class StaffWebhookListView(_WebhookPage, TemplateView):
    """The organisation's endpoints: where each goes, what it gets, whether it works."""

    template_name = "communities/webhooks/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        health = webhook_endpoint_health(organisation=self.organisation)
        context["rows"] = [
            {
                "endpoint": endpoint,
                "events": event_labels(endpoint.events),
                "health": health.get(endpoint.pk),
                "last_status": _STATUS_LABELS.get(endpoint.last_status, endpoint.last_status),
            }
            for endpoint in webhook_endpoints(organisation=self.organisation)
        ]
        return context


class StaffWebhookCreateView(_WebhookPage, StaffFormView):
    """A new endpoint; its secret is on the page that answers, and nowhere after."""

    template_name = "communities/webhooks/form.html"
    form_class = WebhookEndpointForm

    def form_save(self, form: WebhookEndpointForm) -> HttpResponse:
        endpoint, secret = services.webhook_endpoint_create(
            organisation=self.organisation,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            events=form.cleaned_data["events"],
            actor=self.request.user,
        )
        # Not a redirect: the secret exists only in this response, which nothing may keep.
        return _no_store(
            self.response_class(
                request=self.request,
                template=["communities/webhooks/secret.html"],
                context=self.get_context_data(endpoint=endpoint, secret=secret, created=True),
                using=self.template_engine,
            )
        )


class StaffWebhookEditView(_WebhookPage, StaffObjectFormView):
    template_name = "communities/webhooks/form.html"
    form_class = WebhookEndpointEditForm

    def get_initial(self) -> dict[str, Any]:
        return WebhookEndpointForm.initial_from(self.object)

    def form_save(self, form: WebhookEndpointEditForm) -> WebhookEndpoint:
        return services.webhook_endpoint_update(
            endpoint=self.object,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            events=form.cleaned_data["events"],
            active=form.cleaned_data["active"],
            actor=self.request.user,
        )

    def get_success_message(self, form) -> str:
        return _("Endpoint saved.")

    def get_success_url(self) -> str:
        return self.log_url(self.saved)


class StaffWebhookSecretView(_WebhookPage, StaffObjectFormView):
    """GET asks whether to replace the secret; POST makes a new one and shows it once."""

    template_name = "communities/webhooks/secret_confirm.html"
    form_class = forms.Form

    def form_save(self, form: forms.Form) -> HttpResponse:
        secret = services.webhook_endpoint_secret_rotate(
            endpoint=self.object, actor=self.request.user
        )
        return _no_store(
            self.response_class(
                request=self.request,
                template=["communities/webhooks/secret.html"],
                context=self.get_context_data(secret=secret, created=False),
                using=self.template_engine,
            )
        )


class StaffWebhookDeleteView(_WebhookPage, StaffObjectFormView):
    """GET asks for confirmation; POST deletes the endpoint and its delivery log."""

    template_name = "communities/webhooks/delete.html"
    form_class = forms.Form

    def form_save(self, form: forms.Form) -> WebhookEndpoint:
        services.webhook_endpoint_delete(endpoint=self.object, actor=self.request.user)
        return self.object

    def get_success_message(self, form) -> str:
        return _("Endpoint deleted; it receives no more events.")

    def get_success_url(self) -> str:
        return reverse("staff:webhook_list", args=[self.organisation.slug])


class StaffWebhookDetailView(_WebhookPage, SingleObjectMixin, TemplateView):
    """One endpoint and its delivery log: newest first, a page at a time, filtered by
    status and event; each delivery with its attempts."""

    template_name = "communities/webhooks/detail.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        form = DeliveryFilterForm(
            {k: v for k, v in request.GET.items() if k in DeliveryFilterForm.base_fields} or None
        )
        valid = not form.is_bound or form.is_valid()
        context = self.get_context_data(form=form, valid=valid)
        return self.render_to_response(context, status=200 if valid else 400)

    def _cursor(self, name: str) -> WebhookDelivery | None:
        raw = self.request.GET.get(name, "")
        if not _CURSOR.fullmatch(raw):
            return None
        return (
            WebhookDelivery.objects.for_organisation(self.organisation)
            .filter(endpoint=self.object, pk=int(raw))
            .only("pk", "created_at")
            .first()
        )

    def deliveries(self, form: DeliveryFilterForm) -> QuerySet[WebhookDelivery]:
        data = form.cleaned_data if form.is_bound else {}
        return webhook_deliveries(
            organisation=self.organisation,
            endpoint=self.object,
            status=data.get("status", ""),
            event=data.get("event", ""),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form: DeliveryFilterForm = kwargs["form"]
        rows: list[WebhookDelivery] = []
        has_newer = has_older = False
        older, newer = self._cursor("older"), self._cursor("newer")
        if kwargs["valid"]:
            rows, has_newer, has_older = keyset_page(
                self.deliveries(form), older=older, newer=newer, size=DELIVERIES_PER_PAGE
            )
        valid_filters = form.cleaned_data if form.is_bound and kwargs["valid"] else {}
        filters = {k: v for k, v in valid_filters.items() if v}
        here = self.log_url(self.object)
        context.update(
            events=event_labels(self.object.events),
            rows=[_delivery_row(delivery) for delivery in rows],
            newer_url=f"?{urlencode({**filters, 'newer': rows[0].pk})}" if has_newer else "",
            older_url=f"?{urlencode({**filters, 'older': rows[-1].pk})}" if has_older else "",
            newest_url=f"{here}?{urlencode(filters)}" if filters else here,
            paged=older is not None or newer is not None,
            filtered=bool(filters),
        )
        return context


def _delivery_row(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery": delivery,
        "event": _EVENT_LABELS.get(delivery.event, delivery.event),
        # One still on its way is not sent again (the service leaves it as it is).
        "resendable": delivery.status not in _IN_FLIGHT,
        "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "attempts": [
            {
                "attempt": attempt,
                "error": str(_ERROR_LABELS.get(attempt.error, attempt.error)),
            }
            for attempt in delivery.attempt_log.all()
        ],
    }


class StaffWebhookTestView(_WebhookPage, StaffActionView):
    """ "Send test event": a ping delivery, sent and logged like any other."""

    def act(self, endpoint: WebhookEndpoint) -> HttpResponse:
        services.webhook_test_send(endpoint=endpoint, actor=self.request.user)
        messages.success(
            self.request, _("A test event is on its way; its delivery is at the top of the log.")
        )
        return redirect(self.log_url(endpoint))

    def refused_url(self, endpoint: WebhookEndpoint) -> str:
        return self.log_url(endpoint)


class StaffWebhookResendView(_WebhookPage, StaffActionView):
    """ "Resend": the same event (same id and body) to the same endpoint, once more."""

    model = WebhookDelivery

    def act(self, delivery: WebhookDelivery) -> HttpResponse:
        services.webhook_delivery_resend(delivery=delivery, actor=self.request.user)
        messages.success(self.request, _("The delivery is being sent again."))
        return redirect(self.refused_url(delivery))

    def refused_url(self, delivery: WebhookDelivery) -> str:
        return reverse("staff:webhook_detail", args=[self.organisation.slug, delivery.endpoint_id])
