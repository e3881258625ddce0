"""Rendering an email from its .txt/.html template pair in the recipient's language."""

from django.template.loader import render_to_string
from django.utils import translation


def email_render(*, template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Return (subject, text, html) for templates/emails/<template>_{subject,body}.{txt,html}."""
    with translation.override(language):
        subject = render_to_string(f"emails/{template}_subject.txt", context, using="text")
        text = render_to_string(f"emails/{template}_body.txt", context, using="text")
        html = render_to_string(f"emails/{template}_body.html", context)
        subject = subject.strip()
    return " ".join(subject.splitlines()), text, html
