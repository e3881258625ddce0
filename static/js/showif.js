/* Show-if rules, for the survey page (respond.js) and the kiosk (kiosk.js): a question
 * carrying data-show-if='{"field": "q_12", "op": "lte", "value": 6}' is shown only while
 * the earlier question q_12 has an answer that meets the rule.
 *
 * The server applies the same rule to the answers it receives and is the authority
 * (surveys.services.condition_holds); tests/e2e/test_showif_rules.py holds the two to the
 * same verdicts. A question hidden here has its inputs disabled, so a stale answer is never
 * sent and a question that depends on it is hidden too.
 *
 * Load before the script that uses it; it defines window.ChorusShowIf and nothing else.
 */
(function () {
  "use strict";

  /* Whether an earlier question's answer meets `rule` ({op, value} as on the server).
   * `values` are that answer as the page holds it: strings, one for a scale or a single
   * choice, one per ticked box; an empty string is no answer. */
  function holds(rule, values) {
    var given = values.filter(function (raw) {
      return raw !== "";
    });
    if (!given.length) return false;
    var wanted = Array.isArray(rule.value) ? rule.value.map(Number) : [Number(rule.value)];
    return given.some(function (raw) {
      var n = Number(raw);
      if (rule.op === "lte") return n <= wanted[0];
      if (rule.op === "gte") return n >= wanted[0];
      return wanted.indexOf(n) !== -1;
    });
  }

  /* The answer to the question named `name` in `form`: the values of its checked radios or
   * boxes (or of a text input), none while the question is hidden (its inputs disabled). */
  function valuesOf(form, name) {
    var values = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if (input.disabled) return;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      values.push(input.value);
    });
    return values;
  }

  /* Show or hide each question of `form` that has a rule, in page order, so a question
   * hidden by its rule also hides those that depend on it. */
  function apply(form) {
    form.querySelectorAll(".question[data-show-if]").forEach(function (question) {
      var rule = JSON.parse(question.getAttribute("data-show-if"));
      var visible = holds(rule, valuesOf(form, rule.field));
      question.hidden = !visible;
      question.querySelectorAll("input, textarea, select").forEach(function (input) {
        input.disabled = !visible;
      });
    });
  }

  window.ChorusShowIf = { holds: holds, valuesOf: valuesOf, apply: apply };
})();
