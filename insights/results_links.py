"""The survey results page's links to the responses behind its figures, registered in
InsightsConfig.ready() with surveys.selectors_results.register_results_links: the page
is surveys' and may not load insights' template tags (insights sits above surveys), so
the links are built here, with the same filters the dashboard's links carry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from communities.models import Organisation
from insights.templatetags.insights_links import responses_url
from surveys.models import Survey


def survey_results_links(
    *, organisation: Organisation, survey: Survey, query: Any
) -> dict[str, str]:
    """{"detractors": the URL of the survey's detractors under the page's filters}."""
    context = {
        "organisation": organisation,
        "survey": survey,
        "request": SimpleNamespace(GET=query),
    }
    return {"detractors": responses_url(context, band="detractor")}
