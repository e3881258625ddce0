// The member import page while a file is checked or imported: ask the server for the
// progress every 2 s, move the bar, and reload the page once the work is finished.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("import-progress-bar");
  var done = document.getElementById("import-done");
  var total = document.getElementById("import-total");
  function show(progress) {
    if (done) done.textContent = String(progress.done);
    if (total) total.textContent = String(progress.total);
    if (bar) {
      bar.style.width = progress.percent + "%";
      bar.parentElement.setAttribute("aria-valuenow", String(progress.percent));
    }
  }
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) return setTimeout(poll, 4000);
        show(progress);
        if (progress.finished) { window.location.reload(); return; }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 2000);
})();
