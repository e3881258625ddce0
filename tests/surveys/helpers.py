import uuid

from surveys.choices import QuestionType
from surveys.models import Survey


def answers_for(
    survey: Survey, *, nps: int = 9, stars: int = 5, text: str = "", choose: bool = True
) -> dict:
    """A complete, valid POST body for `survey` (every question type answered)."""
    data = {"idempotency_key": uuid.uuid4().hex}
    for question in survey.questions.prefetch_related("choices"):
        name = f"q_{question.pk}"
        choices = [c.pk for c in question.choices.all()]
        if question.type == QuestionType.NPS:
            data[name] = nps
        elif question.type == QuestionType.STAR:
            data[name] = stars
        elif question.type == QuestionType.SINGLE_CHOICE and choose:
            data[name] = choices[0]
        elif question.type == QuestionType.MULTI_CHOICE and choose:
            data[name] = choices[:2]
        elif question.type == QuestionType.TEXT and text:
            data[name] = text
    return data


def question_of(survey: Survey, qtype: str):
    return survey.questions.get(type=qtype)
