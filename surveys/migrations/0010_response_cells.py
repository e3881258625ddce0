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
# below 1 would round the sum to 15 digits). The changed rows' response ids are gathered
# into arrays first: PL/pgSQL plans a statement that reads a transition table again on
# every call (up to a millisecond for a join), while the rest, reading only the arrays,
# keep their plans.
REFRESH = """
IF touched IS NULL THEN
  RETURN NULL;
END IF;
UPDATE surveys_response AS r
SET cells = c.cells
FROM ({cells}) AS c
WHERE r.id = c.response_id AND r.cells IS DISTINCT FROM c.cells;
UPDATE surveys_response AS r SET cells = NULL
WHERE r.id = ANY(touched) AND r.cells IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM surveys_answer AS a WHERE a.response_id = r.id);
"""

ANSWERS_IDS = "SELECT array_agg(DISTINCT response_id) INTO touched FROM changed;"
CHOICES_IDS = (
    "SELECT array_agg(DISTINCT answer_id) INTO answer_ids FROM changed;\n"
    "SELECT array_agg(DISTINCT a.response_id) INTO touched FROM surveys_answer AS a "
    "WHERE a.id = ANY(answer_ids);"
)
# The submit path's one statement writes each response's cells with its row and marks the
# transaction with that statement's start time (surveys.services.statements): the INSERT
# triggers of that statement then have nothing to rebuild, and return at once; any other
# statement, even in the same transaction, starts at another time and is checked.
WRITTEN_BY_STATEMENT = (
    "IF current_setting('chorus.cells_written', true) = statement_timestamp()::text THEN\n"
    "  RETURN NULL;\nEND IF;\n"
)


# An INSERT rebuilds only the responses whose cells do not hold the new rows yet: the
# submit path writes a response's cells with the row, and rebuilding them on every submit
# cost a third of a kiosk answer's time. A new answer (one per question) or chosen choice
# already in the cells can only have been written there with them (tests/surveys/
# test_response_cells.py checks the submit path's value equals the triggers' own build).
ANSWERS_INSERTED_IDS = WRITTEN_BY_STATEMENT + (
    "SELECT array_agg(response_id), array_agg(question_id) INTO firsts, seconds FROM changed;\n"
    "SELECT array_agg(DISTINCT x.response_id) INTO touched "
    "FROM unnest(firsts, seconds) AS x(response_id, question_id) "
    "JOIN surveys_response AS r ON r.id = x.response_id "
    "WHERE r.cells IS NULL OR NOT (r.cells->'a' ? x.question_id::text);"
)
CHOICES_INSERTED_IDS = WRITTEN_BY_STATEMENT + (
    "SELECT array_agg(answer_id), array_agg(choice_id) INTO firsts, seconds FROM changed;\n"
    "SELECT array_agg(DISTINCT a.response_id) INTO touched "
    "FROM unnest(firsts, seconds) AS x(answer_id, choice_id) "
    "JOIN surveys_answer AS a ON a.id = x.answer_id "
    "JOIN surveys_response AS r ON r.id = a.response_id "
    "WHERE r.cells IS NULL OR NOT coalesce("
    "r.cells->'a'->(a.question_id::text)->'c' @> to_jsonb(x.choice_id), FALSE);"
)


def _function(name: str, gather: str) -> str:
    body = REFRESH.format(cells=CELLS_OF.format(ids="SELECT unnest(touched)"))
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
        "SET extra_float_digits = 1 AS $$\n"
        "DECLARE touched bigint[]; answer_ids bigint[]; firsts bigint[]; seconds bigint[];\n"
        f"BEGIN\n{gather}{body}RETURN NULL;\nEND;\n$$;"
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
        _function("surveys_response_cells_from_new_answers", ANSWERS_INSERTED_IDS),
        _function("surveys_response_cells_from_new_choices", CHOICES_INSERTED_IDS),
        _trigger("surveys_answer", "INSERT", "surveys_response_cells_from_new_answers"),
        *(
            _trigger("surveys_answer", event, "surveys_response_cells_from_answers")
            for event in ("UPDATE", "DELETE")
        ),
        _trigger("surveys_answer_choices", "INSERT", "surveys_response_cells_from_new_choices"),
        _trigger("surveys_answer_choices", "DELETE", "surveys_response_cells_from_choices"),
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
        "DROP FUNCTION IF EXISTS surveys_response_cells_from_new_answers();",
        "DROP FUNCTION IF EXISTS surveys_response_cells_from_new_choices();",
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
