// The page of an email send while it runs: fetch the page again every 5 s and put its
// progress in place. No reload (a timed refresh fails WCAG 2.2.1 and loses the reader's
// focus and place); the region is polite-live, so a screen reader hears what changed.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box || box.dataset.done === "true") return;
  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var page = html && new DOMParser().parseFromString(html, "text/html");
        var fresh = page && page.getElementById("batch-progress");
        if (!fresh) return setTimeout(poll, 10000);
        if (fresh.innerHTML !== box.innerHTML) box.innerHTML = fresh.innerHTML;
        var status = document.getElementById("batch-status");
        var freshStatus = page.getElementById("batch-status");
        if (status && freshStatus) status.replaceWith(freshStatus);
        box.dataset.done = fresh.dataset.done;
        if (fresh.dataset.done !== "true") setTimeout(poll, 5000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 5000);
})();
