/* Survey builder enhancements; every action also works through plain forms.
 * - question list: drag and drop to reorder (keyboard users have the arrow buttons);
 * - after an arrow button's move: the focus is back on that button (the server marks it
 *   `autofocus`) and the move is announced ("Question 3 moved up to position 2");
 * - question form: show only the settings that fit the chosen question type.
 */
(function () {
  "use strict";
  var status = document.getElementById("move-status");
  if (status && status.textContent.trim()) {
    // Text already there when the page loads is not announced; text put in later is.
    var words = status.textContent;
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = words;
    }, 250);
  }
  var moved = document.querySelector("#question-list button[autofocus]");
  if (moved && document.activeElement !== moved) moved.focus();

  var list = document.getElementById("question-list");
  if (list) {
    var dragged = null;
    var csrf = document.querySelector("[name=csrfmiddlewaretoken]");
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("[data-question-id]");
      if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
    });
    list.addEventListener("dragover", function (event) {
      var over = event.target.closest("[data-question-id]");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!dragged) return;
      dragged = null;
      var body = new URLSearchParams();
      list.querySelectorAll("[data-question-id]").forEach(function (item) {
        body.append("order", item.getAttribute("data-question-id"));
      });
      fetch(list.getAttribute("data-reorder-url"), {
        method: "POST",
        headers: { "X-CSRFToken": csrf ? csrf.value : "", Accept: "application/json" },
        body: body,
        credentials: "same-origin",
      }).then(function () {
        // The server may have refused (a rule would look forward); show what it kept.
        window.location.reload();
      });
    });
  }

  var typeSelect = document.querySelector(".question-builder [name=type]");
  if (typeSelect) {
    var sync = function () {
      document.querySelectorAll("[data-for-types]").forEach(function (block) {
        var types = block.getAttribute("data-for-types").split(" ");
        block.hidden = types.indexOf(typeSelect.value) === -1;
      });
    };
    typeSelect.addEventListener("change", sync);
    sync();
  }
})();
