"""A response's answers as one value kept beside it (issue 16: a CSV of a million responses
in 5 s).

Reading a million responses' answers meant joining 3-4 million answers and their chosen
choices, grouping them by response and sorting the lot: most of an export's time. On
PostgreSQL, triggers now keep `surveys_response.cells` equal to the response's answers
whatever writes them (the submit path's one statement, the pool's release, a factory, a
console), so an export reads the responses table alone. Each trigger runs once per
statement over the rows it changed (transition tables) and rebuilds the whole value of
each response it touched from its answers, so the value is the same whatever the order of
the writes. This migration fills it for the responses already stored. SQLite has no
statement triggers with transition tables; its exports read the answers as before.
"""

from django.db import migrations, models

# The value of each response in `ids` (a SELECT of response ids), as answers_cells gives it.
CELLS_OF = """
SELECT a.response_id,
       jsonb_build_object(
         'a', jsonb_object_agg(
                a.question_id::text,
                jsonb_strip_nulls(jsonb_build_object(
                  'n', a.number, 't', NULLIF(a.text, ''), 'c', ch.ids))),
         's', (sum(a.sentiment ORDER BY a.id))::text,
         'k', count(a.sentiment)) AS cells
FROM surveys_answer AS a
LEFT JOIN LATERAL (
  SELECT jsonb_agg(ac.choice_id ORDER BY ac.choice_id) AS ids
  FROM surveys_answer_choices AS ac WHERE ac.answer_id = a.id
) AS ch ON TRUE
WHERE a.response_id IN ({ids})
GROUP BY a.response_id
"""

# A float's text is its shortest exact form whatever the session says (extra_float_digits
# below 1 would round the sum to 15 digits).
REFRESH = """
UPDATE surveys_response AS r
SET cells = c.cells
FROM ({cells}) AS c
WHERE r.id = c.response_id AND r.cells IS DISTINCT FROM c.cells;
UPDATE surveys_response AS r SET cells = NULL
WHERE r.id IN ({ids}) AND r.cells IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM surveys_answer AS a WHERE a.response_id = r.id);
"""

ANSWERS_IDS = "SELECT DISTINCT response_id FROM changed"
CHOICES_IDS = (
    "SELECT DISTINCT a.response_id FROM surveys_answer AS a "
    "WHERE a.id IN (SELECT answer_id FROM changed)"
)


def _function(name: str, ids: str) -> str:
    body = REFRESH.format(cells=CELLS_OF.format(ids=ids), ids=ids)
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
        f"SET extra_float_digits = 1 AS $$\nBEGIN{body}RETURN NULL;\nEND;\n$$;"
    )


def _trigger(table: str, event: str, function: str) -> str:
    transition = "OLD TABLE" if event == "DELETE" else "NEW TABLE"
    name = f"{table}_cells_{event.lower()}"
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} AS changed "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
    )


FORWARD = "\n".join(
    [
        _function("surveys_response_cells_from_answers", ANSWERS_IDS),
        _function("surveys_response_cells_from_choices", CHOICES_IDS),
        *(
            _trigger("surveys_answer", event, "surveys_response_cells_from_answers")
            for event in ("INSERT", "UPDATE", "DELETE")
        ),
        *(
            _trigger("surveys_answer_choices", event, "surveys_response_cells_from_choices")
            for event in ("INSERT", "DELETE")
        ),
    ]
)
BACKWARD = "\n".join(
    [
        *(
            f"DROP TRIGGER IF EXISTS surveys_answer_cells_{event} ON surveys_answer;"
            for event in ("insert", "update", "delete")
        ),
        *(
            f"DROP TRIGGER IF EXISTS surveys_answer_choices_cells_{event} "
            "ON surveys_answer_choices;"
            for event in ("insert", "delete")
        ),
        "DROP FUNCTION IF EXISTS surveys_response_cells_from_answers();",
        "DROP FUNCTION IF EXISTS surveys_response_cells_from_choices();",
    ]
)
FILL = (
    "SET LOCAL extra_float_digits = 1;\n"
    "UPDATE surveys_response AS r SET cells = c.cells FROM ("
    + CELLS_OF.format(ids="SELECT id FROM surveys_response")
    + ") AS c WHERE r.id = c.response_id;"
)


def triggers_create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FORWARD)
        cursor.execute(FILL)


def triggers_drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0009_hot_path")]

    operations = [
        migrations.AddField(
            model_name="response",
            name="cells",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
