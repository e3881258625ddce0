"""The webhook management API (api_area "webhooks"): endpoints (the secret in the answer
that makes one, and nowhere else), a new secret, one endpoint's deliveries with their
attempts, "resend" and "send test event".

Staff sessions of owners and admins only, for reading too (as the staff pages); an API key
needs "webhooks:read" to read and "webhooks:write" for the rest. Every write goes through
communities.webhooks.services, which checks the URL (https, no private address, not already
registered) and audits the change, so the API refuses exactly what the pages refuse.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from communities.api.auth import ApiTokenAuthentication
from communities.api.parsers import BoundedJSONParser
from communities.api.serializers import Unprocessable
from communities.models import User
from communities.permissions import can_manage
from communities.scoping import OrganisationScopedAPIView
from communities.webhooks import services
from communities.webhooks.choices import (
    AttemptError,
    DeliveryStatus,
    DisabledReason,
    WebhookEvent,
)
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from communities.webhooks.staff import SUBSCRIBABLE_EVENTS, webhook_deliveries
from config.api_pagination import StrictCursorPagination

URL_MAX_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
DESCRIPTION_MAX_LENGTH = WebhookEndpoint._meta.get_field("description").max_length
SUBSCRIBABLE = [value for value, _label in SUBSCRIBABLE_EVENTS]
# A new secret as an example answer shows it (never a real one).
SECRET_EXAMPLE = "whsec_2nq8Xv1cJ0m4C4yqk6QG3rWcYvYbU9k3vZ3fX1R0oPc"
PAGING_PARAMS = frozenset({"cursor", "page_size"})
# An absolute URI as RFC 3986 spells one (the schema's `format: uri`): a scheme, then only
# the characters a URI may hold, a percent sign only before two hex digits. Anything else is
# a 400, as the schema says; whether the services will call a URI of that shape (https, no
# private address) is the organisation's data to decide, a 422.
URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=])*"
)


# --- shapes ----------------------------------------------------------------------------------


class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        help_text="The events sent to this URL.",
    )
    disabled_reason = serializers.ChoiceField(
        choices=[("", "(active)"), *DisabledReason.choices],
        help_text='Why it is not active: "failing" (every delivery failed for a day) or '
        '"staff" (turned off); "" while active.',
    )
    failing_since = serializers.DateTimeField(
        allow_null=True,
        help_text="When the current unbroken run of failures began; null when the last "
        "attempt succeeded.",
    )
    disabled_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret: shown in this answer only, never again. Check each "
        "event's Chorus-Signature header with it."
    )

    class Meta(WebhookEndpointOutputSerializer.Meta):
        fields = [*WebhookEndpointOutputSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSecretOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="The new signing secret: shown in this answer only. The old one no longer "
        "signs events."
    )


@extend_schema_field(
    {"type": "string", "format": "uri", "minLength": 1, "maxLength": URL_MAX_LENGTH}
)
class WebhookUrlField(serializers.CharField):
    """A URI, as sent (no trimming: a space is not part of one)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, max_length=URL_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not URI.fullmatch(value):
            raise ValidationError(_("Enter a full URL, such as https://example.com/chorus."))
        return value


class WebhookEndpointConflict(APIException):
    """The endpoint's state refuses this: it is disabled, so nothing is sent to it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "endpoint_disabled"
    default_detail = gettext_lazy("The endpoint is disabled; turn it on before sending to it.")


URL_REFUSED = OpenApiResponse(
    description="The URL is a URI the organisation may not send to (not https, a private "
    "or reserved address, credentials in it, or already one of its endpoints), at `/url`."
)
DISABLED = OpenApiResponse(
    description="The endpoint is disabled (`endpoint_disabled`): turn it on first."
)


class WebhookEndpointCreateInputSerializer(serializers.Serializer):
    url = WebhookUrlField(
        help_text="An https:// URL that is not a private or reserved address, and not "
        "already one of the organisation's endpoints.",
    )
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        allow_empty=False,
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        help_text="At least one event.",
    )


class WebhookEndpointUpdateInputSerializer(serializers.Serializer):
    url = WebhookUrlField(required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        allow_empty=False,
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        required=False,
    )
    active = serializers.BooleanField(
        required=False,
        help_text="false stops sending; true turns an endpoint disabled for failing back on.",
    )


class WebhookAttemptOutputSerializer(serializers.ModelSerializer):
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's HTTP status; null when no answer came."
    )
    error = serializers.ChoiceField(
        choices=[("", "(none)"), *AttemptError.choices],
        help_text='Why the attempt did not deliver; "" when it did.',
    )
    response_excerpt = serializers.CharField(
        help_text="The start of the receiver's answer (at most 500 characters)."
    )

    class Meta:
        model = WebhookAttempt
        fields = ["id", "started_at", "status_code", "duration_ms", "error", "response_excerpt"]
        read_only_fields = fields


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id")
    event = serializers.ChoiceField(choices=WebhookEvent.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    event_id = serializers.CharField(
        help_text="The event's id, the same in every attempt and resend (receivers dedupe on it)."
    )
    payload = serializers.SerializerMethodField(
        help_text="The JSON body receivers get (id, type, created, organisation, data), as "
        "text: its data differs by event."
    )
    delivered_at = serializers.DateTimeField(allow_null=True)
    attempt_log = WebhookAttemptOutputSerializer(
        many=True, help_text="Every HTTP request made for it, newest first."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields

    def get_payload(self, delivery: WebhookDelivery) -> str:
        return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True)


# --- views -----------------------------------------------------------------------------------


class DeliveryPagination(StrictCursorPagination):
    """Newest first, as the staff log; a cursor, so deliveries made while a client pages
    through do not shift the pages it has not read yet."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class EndpointPagination(StrictCursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _refused(exc: DjangoValidationError) -> APIException:
    """A service's refusal: the endpoint disabled is its state (409); anything else is a
    request of the schema's shape that the organisation's data refuses (422, on the fields
    it names), as a URL it may not send to."""
    if hasattr(exc, "error_dict"):
        if "endpoint" in exc.error_dict:
            return WebhookEndpointConflict(" ".join(exc.message_dict["endpoint"]))
        return Unprocessable(
            {"non_field_errors" if k == "__all__" else k: v for k, v in exc.message_dict.items()}
        )
    return Unprocessable({"non_field_errors": exc.messages})


class _WebhooksAPI(OrganisationScopedAPIView):
    """Owners and admins, or an API key with the webhooks scopes."""

    api_area = "webhooks"
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role (or the key's scope) itself.
    permission_classes: list = []
    parser_classes = [BoundedJSONParser]
    permission = staticmethod(can_manage)
    write_permission = staticmethod(can_manage)
    model = WebhookEndpoint

    def actor(self) -> User | None:
        """Who did it: the staff member, or None for a key (it acts for the organisation)."""
        return self.request.user if self.api_token is None else None

    def endpoint(self) -> WebhookEndpoint:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


ENDPOINT_EXAMPLE = OpenApiExample(
    "Register a helpdesk",
    value={
        "url": "https://helpdesk.example.com/hooks/chorus",
        "description": "Helpdesk",
        "events": ["case.opened", "case.resolved"],
    },
    request_only=True,
)
CREATED_EXAMPLE = OpenApiExample(
    "Registered, with its secret (shown this once)",
    value={
        "id": 17,
        "url": "https://helpdesk.example.com/hooks/chorus",
        "description": "Helpdesk",
        "events": ["case.opened", "case.resolved"],
        "active": True,
        "disabled_at": None,
        "disabled_reason": "",
        "failing_since": None,
        "created_at": "2026-12-06T09:29:41Z",
        "secret": SECRET_EXAMPLE,
    },
    response_only=True,
)
PING_EXAMPLE = OpenApiExample(
    "The test event, queued",
    value={
        "id": 5012,
        "endpoint": 17,
        "event": "ping",
        "event_id": "ping:3f1c0d3e9a6b4e0f8f3d1f5b2c7a9e10",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": "2026-12-06T09:30:00Z",
        "delivered_at": None,
        "created_at": "2026-12-06T09:30:00Z",
        "payload": '{"created": "2026-12-06T09:30:00Z", "data": {"endpoint": 17}, '
        '"id": "ping:3f1c0d3e9a6b4e0f8f3d1f5b2c7a9e10", "organisation": "demo-coffee", '
        '"type": "ping"}',
        "attempt_log": [],
    },
    response_only=True,
)
RESEND_EXAMPLE = OpenApiExample(
    "A failed delivery, queued again",
    value={
        "id": 4870,
        "endpoint": 17,
        "event": "case.opened",
        "event_id": "case.opened:912",
        "status": "pending",
        "attempts": 14,
        "next_attempt_at": "2026-12-06T09:31:00Z",
        "delivered_at": None,
        "created_at": "2026-12-06T09:31:00Z",
        "payload": '{"created": "2026-12-05T08:02:11Z", "data": {"case": 912}, '
        '"id": "case.opened:912", "organisation": "demo-coffee", "type": "case.opened"}',
        "attempt_log": [
            {
                "id": 99120,
                "started_at": "2026-12-06T08:02:13Z",
                "status_code": 503,
                "duration_ms": 214,
                "error": "http_5xx",
                "response_excerpt": "Service Unavailable",
            }
        ],
    },
    response_only=True,
)


class WebhookEndpointListAPI(_WebhooksAPI, generics.ListAPIView):
    serializer_class = WebhookEndpointOutputSerializer
    pagination_class = EndpointPagination

    def list(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - PAGING_PARAMS)
        if unknown:
            raise ValidationError({key: [_("Not a filter this list knows.")] for key in unknown})
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="List the organisation's webhook endpoints, newest first",
        description="The signing secrets are never listed.",
        responses={200: WebhookEndpointOutputSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a webhook endpoint",
        description="The answer holds the signing secret: it is shown this once.",
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer, 422: URL_REFUSED},
        examples=[ENDPOINT_EXAMPLE, CREATED_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> Response:
        data = WebhookEndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint, secret = services.webhook_endpoint_create(
                organisation=self.organisation, actor=self.actor(), **data.validated_data
            )
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        body = WebhookEndpointOutputSerializer(endpoint).data
        answer = Response({**body, "secret": secret}, status=status.HTTP_201_CREATED)
        answer["Cache-Control"] = "no-store"
        return answer


class WebhookEndpointDetailAPI(_WebhooksAPI, generics.GenericAPIView):
    serializer_class = WebhookEndpointOutputSerializer

    @extend_schema(
        summary="One webhook endpoint (without its secret)",
        responses={200: WebhookEndpointOutputSerializer},
    )
    def get(self, request, *args, **kwargs) -> Response:
        return Response(WebhookEndpointOutputSerializer(self.endpoint()).data)

    @extend_schema(
        summary="Change a webhook endpoint (fields left out keep their value)",
        request=WebhookEndpointUpdateInputSerializer,
        responses={200: WebhookEndpointOutputSerializer, 422: URL_REFUSED},
        examples=[
            OpenApiExample(
                "Turn it back on after it was disabled for failing",
                value={"active": True},
                request_only=True,
            ),
            OpenApiExample(
                "Subscribe to responses as well",
                value={"events": ["response.created", "case.opened", "case.resolved"]},
                request_only=True,
            ),
        ],
    )
    def patch(self, request, *args, **kwargs) -> Response:
        endpoint = self.endpoint()
        data = WebhookEndpointUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint = services.webhook_endpoint_update(
                endpoint=endpoint, actor=self.actor(), **data.validated_data
            )
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(WebhookEndpointOutputSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a webhook endpoint and its delivery log",
        request=None,
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs) -> Response:
        services.webhook_endpoint_delete(endpoint=self.endpoint(), actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointSecretAPI(_WebhooksAPI, generics.GenericAPIView):
    serializer_class = WebhookSecretOutputSerializer

    @extend_schema(
        summary="Replace an endpoint's signing secret",
        description="The answer holds the new secret, shown this once; the old one stops "
        "signing events at once.",
        request=None,
        responses={200: WebhookSecretOutputSerializer},
        examples=[
            OpenApiExample("The new secret", value={"secret": SECRET_EXAMPLE}, response_only=True)
        ],
    )
    def post(self, request, *args, **kwargs) -> Response:
        secret = services.webhook_endpoint_secret_rotate(
            endpoint=self.endpoint(), actor=self.actor()
        )
        answer = Response({"secret": secret})
        answer["Cache-Control"] = "no-store"
        return answer


class WebhookEndpointTestAPI(_WebhooksAPI, generics.GenericAPIView):
    serializer_class = WebhookDeliveryOutputSerializer

    @extend_schema(
        summary="Send a test event (type ping) to the endpoint",
        description="Queued and sent like any delivery; its result appears in the deliveries.",
        request=None,
        responses={201: WebhookDeliveryOutputSerializer, 409: DISABLED},
        examples=[PING_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> Response:
        try:
            delivery = services.webhook_test_send(endpoint=self.endpoint(), actor=self.actor())
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        delivery = webhook_deliveries(
            organisation=self.organisation, endpoint=delivery.endpoint
        ).get(pk=delivery.pk)
        return Response(
            WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_201_CREATED
        )


DELIVERY_FILTERS = [
    OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only this status."),
    OpenApiParameter("event", str, enum=WebhookEvent.values, description="Only this event."),
]


class WebhookDeliveryListAPI(_WebhooksAPI, generics.ListAPIView):
    """One endpoint's deliveries, newest first, each with its attempts."""

    model = WebhookDelivery
    serializer_class = WebhookDeliveryOutputSerializer
    pagination_class = DeliveryPagination

    def scope_queryset(self, queryset: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
        query = self.request.query_params
        unknown = sorted(set(query) - PAGING_PARAMS - {"status", "event"})
        errors: dict[str, list[str]] = {
            key: [_("Not a filter this list knows.")] for key in unknown
        }
        chosen: dict[str, Any] = {}
        for name, allowed in (("status", DeliveryStatus.values), ("event", WebhookEvent.values)):
            value = query.get(name)
            if value is None:
                continue
            if value not in allowed:
                errors[name] = [_("Choose one of: %(values)s.") % {"values": ", ".join(allowed)}]
            chosen[name] = value
        if errors:
            raise ValidationError(errors)
        endpoint = get_object_or_404(
            WebhookEndpoint.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )
        return webhook_deliveries(organisation=self.organisation, endpoint=endpoint, **chosen)

    @extend_schema(
        summary="An endpoint's deliveries, newest first, with their attempts",
        parameters=DELIVERY_FILTERS,
        responses={200: WebhookDeliveryOutputSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WebhookDeliveryResendAPI(_WebhooksAPI, generics.GenericAPIView):
    model = WebhookDelivery
    serializer_class = WebhookDeliveryOutputSerializer

    @extend_schema(
        summary="Send a delivery again (the same event id and body)",
        description="A delivery still waiting to be sent is left as it is.",
        request=None,
        responses={200: WebhookDeliveryOutputSerializer, 409: DISABLED},
        examples=[RESEND_EXAMPLE],
    )
    def post(self, request, *args, **kwargs) -> Response:
        delivery = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        try:
            delivery = services.webhook_delivery_resend(delivery=delivery, actor=self.actor())
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        delivery = webhook_deliveries(
            organisation=self.organisation, endpoint=delivery.endpoint
        ).get(pk=delivery.pk)
        return Response(WebhookDeliveryOutputSerializer(delivery).data)
