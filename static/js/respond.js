/* Survey page enhancements. The page works without this file: every question is shown,
 * and the server applies the same show-if rules when the answers arrive.
 *
 * - show-if (the rule itself is in showif.js, loaded first): a question whose rule is not
 *   met is hidden and its inputs disabled, so a stale answer is never sent;
 * - progress over the questions currently shown: "Question n of m" when they come one at
 *   a time, else "n of m answered" (never "Question 0 of m"); the words are announced
 *   politely, and only when they change;
 * - one question at a time (when the survey asks for it): Next / Back buttons.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-survey-form]");
  if (!form) return;
  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));
  var progress = document.getElementById("survey-progress");
  var progressText = document.getElementById("survey-progress-text");
  var progressBar = progress ? progress.querySelector(".progress-bar") : null;
  var oneAtATime = form.hasAttribute("data-one-at-a-time");
  var nav = document.getElementById("survey-step-nav");
  var submitRow = form.querySelector("[type=submit]");
  var current = 0;

  function shown(question) {
    return !question.hidden;
  }

  function visibleQuestions() {
    return questions.filter(shown);
  }

  function answered(question) {
    return Array.prototype.some.call(
      question.querySelectorAll("input, textarea, select"),
      function (input) {
        if (input.disabled) return false;
        if (input.type === "radio" || input.type === "checkbox") return input.checked;
        return input.type !== "hidden" && input.value.trim() !== "";
      }
    );
  }

  function render() {
    var visible = visibleQuestions();
    if (oneAtATime) {
      current = Math.min(current, visible.length - 1);
      questions.forEach(function (question) {
        question.classList.toggle("step-inactive", visible.indexOf(question) !== current);
      });
      var last = current === visible.length - 1;
      nav.querySelector("[data-step=back]").hidden = current === 0;
      nav.querySelector("[data-step=next]").hidden = last;
      form.querySelectorAll(".after-questions").forEach(function (el) {
        el.hidden = !last;
      });
    }
    if (progress) {
      var done = oneAtATime ? current + 1 : visible.filter(answered).length;
      var words = progress
        .getAttribute(oneAtATime ? "data-step-template" : "data-answered-template")
        .replace("%(n)s", done)
        .replace("%(total)s", visible.length);
      // Rewriting the same words would make some screen readers say them again.
      if (progressText.textContent !== words) progressText.textContent = words;
      progressBar.style.width = Math.round((100 * done) / Math.max(visible.length, 1)) + "%";
      progressBar.parentNode.setAttribute("aria-valuenow", done);
      progressBar.parentNode.setAttribute("aria-valuemax", visible.length);
      progressBar.parentNode.setAttribute("aria-valuetext", words);
    }
  }

  function focusCurrent() {
    var question = visibleQuestions()[current];
    var target = question && question.querySelector("legend, label");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  form.addEventListener("change", function () {
    window.ChorusShowIf.apply(form);
    render();
  });
  form.addEventListener("input", render);

  if (oneAtATime && nav) {
    nav.hidden = false;
    nav.addEventListener("click", function (event) {
      var step = event.target.getAttribute("data-step");
      if (!step) return;
      event.preventDefault();
      current += step === "next" ? 1 : -1;
      current = Math.max(0, current);
      render();
      focusCurrent();
    });
    // A question the server sent back with an error is where the respondent resumes.
    var withError = visibleQuestions().findIndex(function (q) {
      return q.classList.contains("has-error");
    });
    if (withError > 0) current = withError;
  }
  // A link in the error summary: the answer it names takes the focus, with its question's
  // words in view above it, in one step. Left to the browser, the jump to the fragment and
  // the focus each scroll; the page's smooth scrolling animates the first, and the second
  // could cut it short with the words still above the top edge.
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var input = link && document.getElementById(link.getAttribute("href").slice(1));
      var question = input && input.closest(".question");
      if (!question || question.hidden) return;
      event.preventDefault();
      if (oneAtATime) {
        current = Math.max(0, visibleQuestions().indexOf(question));
        render();
      }
      var words = question.querySelector("legend, label") || input;
      words.scrollIntoView({ block: "start", behavior: "instant" });
      input.focus({ preventScroll: true });
    });
  }
  if (progress) progress.hidden = false;
  window.ChorusShowIf.apply(form);
  render();
})();
