"""The customer's page behind the recovery link: "Did we fix it?", answered once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views import View

from feedback.forms import RecoveryAnswerForm
from feedback.services.recovery import RecoveryLinkInvalid, recovery_answer, recovery_check_read

TEMPLATE = "feedback/recovery_answer.html"


class RecoveryAnswerView(View):
    """Public, reached from the email: the signed token is the only key. An altered or
    expired link shows a plain refusal (404), naming no organisation."""

    http_method_names = ["get", "post"]

    def _check(self, token: str):
        try:
            return recovery_check_read(token=token)
        except RecoveryLinkInvalid:
            return None

    def _render(self, request, check, *, status: int = 200, **context) -> HttpResponse:
        if check is None:
            return render(request, TEMPLATE, {"invalid": True}, status=404)
        # The page is in the language the question was sent in.
        with translation.override(check.language):
            return render(
                request,
                TEMPLATE,
                {"check": check, "organisation": check.organisation, **context},
                status=status,
            )

    def get(self, request, token: str) -> HttpResponse:
        check = self._check(token)
        answered = check is not None and check.answered_at is not None
        return self._render(request, check, form=RecoveryAnswerForm(), answered=answered)

    def post(self, request, token: str) -> HttpResponse:
        check = self._check(token)
        if check is None:
            return self._render(request, None)
        form = RecoveryAnswerForm(request.POST)
        if not form.is_valid():
            return self._render(request, check, status=400, form=form)
        try:
            recovery_answer(check=check, score=form.cleaned_data["score"])
        except ValidationError as exc:
            return self._render(request, check, status=409, answered=True, refused=exc.messages)
        return self._render(request, check, done=True)
