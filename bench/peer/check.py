"""Count what submissions to one peer survey wrote; prints JSON."""

from __future__ import annotations

import argparse
import json

import django

django.setup()

from django.db.models import Count  # noqa: E402
from survey.models import Answer, Response  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--survey", type=int, required=True)
    args = parser.parse_args()
    responses = Response.objects.filter(survey_id=args.survey)
    print(
        json.dumps(
            {
                "responses": responses.count(),
                "distinct_keys": responses.values("interview_uuid").distinct().count(),
                "members_with_several_responses": responses.values("user_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count(),
                "responses_without_member": responses.filter(user__isnull=True).count(),
                "answers": Answer.objects.filter(response__survey_id=args.survey).count(),
            }
        )
    )


if __name__ == "__main__":
    main()
