// A "Copy" button (data-copy="<id of the input>") puts the input's value on the clipboard
// and says so (data-copied) in the element "<id>-status". The site's Permissions-Policy
// switches the asynchronous Clipboard API off, so the selected text is copied with the
// editing command, which a click may always use; should that fail too, the text stays
// selected for Ctrl+C.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copy + "-status");
    if (!field) return;
    button.addEventListener("click", () => {
      field.focus();
      field.select();
      let copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      if (copied && status) status.textContent = button.dataset.copied || "";
    });
  });
})();
