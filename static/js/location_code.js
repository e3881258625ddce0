// The new-store form suggests a code from the name as it is typed, the way the server
// makes one from an empty code (django.utils.text.slugify): until the code is typed in.
(function () {
  "use strict";
  const name = document.getElementById("id_name");
  const code = document.getElementById("id_code");
  if (!name || !code) return;
  let suggested = code.value === "";
  const slug = (text) =>
    text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "")
      .trim()
      .replace(/[\s_-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "");
  name.addEventListener("input", () => {
    if (suggested) code.value = slug(name.value);
  });
  code.addEventListener("input", () => {
    suggested = code.value === "";
  });
})();
