"""The staff forms of webhook endpoints and the delivery log's filter.

The endpoint form checks what it can say best next to the field (a URL at all, its length,
at least one event); whether the URL may be called (https, no private address, not already
registered) is the services' to decide, and their refusal lands on the URL field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.webhooks.choices import DeliveryStatus, WebhookEvent
from communities.webhooks.models import WebhookEndpoint
from communities.webhooks.staff import SUBSCRIBABLE_EVENTS

URL_MAX_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
DESCRIPTION_MAX_LENGTH = WebhookEndpoint._meta.get_field("description").max_length


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=URL_MAX_LENGTH,
        assume_scheme="https",
        widget=forms.URLInput(
            attrs={"dir": "ltr", "autocapitalize": "none", "placeholder": "https://"}
        ),
        help_text=_("Where Chorus sends the events: an https address your system answers at."),
        error_messages={
            "invalid": _("Enter a full web address, such as https://example.com/chorus."),
            "max_length": _("The URL is too long: at most %(limit_value)d characters."),
        },
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        help_text=_("What receives the events, for your colleagues (e.g. “Helpdesk”)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=SUBSCRIBABLE_EVENTS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event to send.")},
    )

    @staticmethod
    def initial_from(endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": list(endpoint.events),
            "active": endpoint.active,
        }


class WebhookEndpointEditForm(WebhookEndpointForm):
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_(
            "Untick to stop sending events to this URL. Ticking it again turns an endpoint "
            "disabled for failing back on."
        ),
    )


class DeliveryFilterForm(forms.Form):
    """The delivery log's filters; a value the lists do not hold is an error on the page."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *DeliveryStatus.choices],
    )
    event = forms.ChoiceField(
        label=_("Event"),
        required=False,
        choices=[("", _("Any event")), *WebhookEvent.choices],
    )
