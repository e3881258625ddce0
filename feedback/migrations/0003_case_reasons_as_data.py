"""Case reasons become data (code, question, value, threshold), rendered in the reader's
language. Existing English reasons are read back into data where they can be; any other
text is kept as it was in `reason_text`."""

import re

from django.db import migrations, models

# A frozen copy of feedback.reasons' reader: this migration must keep meaning what it meant.
SCORE = re.compile(r"^(nps|csat|stars) (-?\d+(?:\.\d+)?) ≤ (-?\d+(?:\.\d+)?)$", re.I)
SENTIMENT = re.compile(r"^sentiment ([+-]?\d+(?:\.\d+)?) below ([+-]?\d+(?:\.\d+)?)$", re.I)
CHOICE = re.compile(r"^choice selected$", re.I)


def _plain(number):
    return int(number) if float(number).is_integer() else number


def parse(text):
    parts = [part.strip() for part in (text or "").split(";")]
    if not text or not all(parts):
        return None
    reasons = []
    for part in parts:
        if match := SCORE.match(part):
            reasons.append(
                {
                    "code": match.group(1).lower(),
                    "question": None,
                    "value": _plain(float(match.group(2))),
                    "threshold": _plain(float(match.group(3))),
                }
            )
        elif match := SENTIMENT.match(part):
            reasons.append(
                {
                    "code": "sentiment",
                    "question": None,
                    "value": float(match.group(1)),
                    "threshold": float(match.group(2)),
                }
            )
        elif CHOICE.match(part):
            reasons.append({"code": "choice", "question": None, "value": None, "threshold": None})
        else:
            return None
    return reasons


def english(reasons):
    words = []
    for reason in reasons:
        code, value, threshold = reason.get("code"), reason.get("value"), reason.get("threshold")
        if code == "sentiment":
            words.append(f"sentiment {value:+.2f} below {threshold:+.2f}")
        elif code == "choice":
            words.append("choice selected")
        else:
            label = {"nps": "NPS", "csat": "CSAT"}.get(code, "stars")
            words.append(f"{label} {value} ≤ {threshold:g}")
    return "; ".join(words)[:200]


def forward(apps, schema_editor):
    Case = apps.get_model("feedback", "Case")
    for case in Case.objects.exclude(reason_text="").only("pk", "reason_text").iterator():
        reasons = parse(case.reason_text)
        if reasons is not None:
            Case.objects.filter(pk=case.pk).update(reasons=reasons, reason_text="")


def backward(apps, schema_editor):
    Case = apps.get_model("feedback", "Case")
    for case in Case.objects.filter(reason_text="").only("pk", "reasons").iterator():
        Case.objects.filter(pk=case.pk).update(reason_text=english(case.reasons or []))


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_delete_outboundemail"),
    ]

    operations = [
        migrations.RenameField(model_name="case", old_name="reason", new_name="reason_text"),
        migrations.AlterField(
            model_name="case",
            name="reason_text",
            field=models.CharField(blank=True, max_length=200, verbose_name="reason (old text)"),
        ),
        migrations.AddField(
            model_name="case",
            name="reasons",
            field=models.JSONField(blank=True, default=list, verbose_name="reasons"),
        ),
        migrations.RunPython(forward, backward),
    ]
