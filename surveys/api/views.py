"""The events API: another system reports an event that sends a survey (surveys, polls,
questions and responses have their own modules in surveys.api)."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response as DRFResponse

from communities.api.auth import ApiTokenAuthentication, OrganisationApiToken
from communities.api.base import ApiConventionsMixin
from communities.permissions import can_read_results
from communities.scoping import OrganisationScopedAPIView
from surveys.api.serializers import EventInputSerializer, EventOutputSerializer
from surveys.models import Survey, SurveyEvent
from surveys.services.events import event_receive


class EventReceivedOutputSerializer(EventOutputSerializer):
    duplicate = serializers.BooleanField(
        read_only=True, help_text="true: this external reference was reported before."
    )

    class Meta(EventOutputSerializer.Meta):
        fields = [*EventOutputSerializer.Meta.fields, "duplicate"]


class EventReceiveAPI(ApiConventionsMixin, generics.GenericAPIView):
    """POST /api/v1/<org>/events/: a ticket closed or an order completed; survey the customer.

    Answers 202 once the event is stored; the invitation is sent after commit (and after
    `delay_minutes`), once per external reference, and not to anyone surveyed within the
    organisation's contact limit. A repeated event answers 202 with the first one. The
    answer says what became of the event once that is known (sent, or skipped and why);
    its Location header is the event's own URL, to read that later (EventDetailAPI).
    """

    api_area = "surveys"

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [OrganisationApiToken]
    serializer_class = EventInputSerializer

    @extend_schema(
        summary="Report an event that surveys a customer",
        responses={202: EventReceivedOutputSerializer},
        examples=[
            OpenApiExample(
                "A support ticket closed",
                request_only=True,
                value={
                    "type": "ticket_closed",
                    "external_ref": "TICKET-4812",
                    "email": "somchai@example.com",
                    "name": "Somchai",
                    "language": "th",
                    "delay_minutes": 60,
                },
            )
        ],
    )
    def post(self, request, *args, **kwargs) -> DRFResponse:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        survey = None
        if "survey" in fields:
            survey = get_object_or_404(
                Survey.objects.for_organisation(self.organisation), pk=fields["survey"]
            )
        event, created = event_receive(
            organisation=self.organisation,
            kind=fields["type"],
            external_ref=fields["external_ref"],
            email=fields["email"],
            name=fields["name"],
            language=fields["language"],
            survey=survey,
            delay=timedelta(minutes=fields["delay_minutes"]),
        )
        # Read back: when the event was processed at once (due now, and the worker, or
        # the embedded eager mode, has been), the answer already says what became of it.
        event.refresh_from_db()
        body = EventOutputSerializer(event).data
        body["duplicate"] = not created
        return DRFResponse(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={
                "Location": reverse("api:event_detail", args=[self.organisation.slug, event.pk])
            },
        )


class EventDetailAPI(OrganisationScopedAPIView, generics.RetrieveAPIView):
    """GET /api/v1/<org>/events/<id>/: what became of a reported event (sent, or skipped and
    why); the caller polls it for an event sent later (`delay_minutes`)."""

    api_area = "surveys"

    model = SurveyEvent
    # The integration's key, or a staff session of someone who may read results.
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    permission = staticmethod(can_read_results)
    serializer_class = EventOutputSerializer

    def scope_queryset(self, queryset):
        return queryset.select_related("organisation")

    @extend_schema(summary="What became of a reported event")
    def get(self, request, *args, **kwargs) -> DRFResponse:
        return super().get(request, *args, **kwargs)
