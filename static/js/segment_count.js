// The segment form's live count: as conditions change, ask the server how many members
// the unsaved filter selects (debounced; a stale answer never overwrites a newer one).
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  var out = document.getElementById("segment-count");
  var problem = document.getElementById("segment-count-error");
  if (!form || !out) return;
  var timer = null;
  var asked = 0;
  function count() {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    data.delete("name");
    var params = new URLSearchParams();
    data.forEach(function (value, key) { params.append(key, value); });
    var mine = ++asked;
    fetch(form.dataset.countUrl + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (result) {
        if (mine !== asked) return;
        if (result[0]) {
          out.textContent = String(result[1].count);
          problem.hidden = true;
        } else {
          out.textContent = "—";
          problem.hidden = false;
        }
      })
      .catch(function () {});
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(count, 300);
  }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  count();
})();
