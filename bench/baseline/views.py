"""The baseline views: the framework's ceiling, the floor cost of any page and of any write."""

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from bench.baseline.models import MinimalRow


@require_GET
def bare(request: HttpRequest) -> HttpResponse:
    """A short string through the full middleware stack, nothing else."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def bare_template(request: HttpRequest) -> HttpResponse:
    """A tiny HTML page (a title, one paragraph) from a template that extends nothing.

    Rendered with render() like any Chorus page, so the template engine and the context
    processors run, through the full middleware stack: the floor cost of any HTML page.
    """
    return render(request, "bench_baseline/bare_template.html")


class MinimalForm(forms.Form):
    key = forms.CharField(max_length=64)
    score = forms.IntegerField(min_value=0, max_value=10)


@require_http_methods(["GET", "POST"])
def minimal(request: HttpRequest) -> HttpResponse:
    """Validate a small form and INSERT one row in a transaction, answering like Chorus.

    GET hands out a CSRF token (and sets its cookie) so the load generator can post the
    way a browser would; POST goes through CsrfViewMiddleware like the survey form.
    """
    if request.method == "GET":
        return HttpResponse(get_token(request), content_type="text/plain")
    form = MinimalForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    with transaction.atomic():
        MinimalRow.objects.create(key=form.cleaned_data["key"], score=form.cleaned_data["score"])
    # Chorus answers a good submit with a redirect to its thank-you page; so does this.
    return HttpResponseRedirect("/bench/bare/")
