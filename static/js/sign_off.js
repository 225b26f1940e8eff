// The sign-off queue by keyboard: J/K move, S signs off the current row, Space selects it,
// A selects all, Enter signs off the selected. The form works without this script.
(function () {
  "use strict";
  const form = document.getElementById("sign-off-queue");
  if (!form) return;
  const rows = Array.from(form.querySelectorAll(".sign-off-row"));
  let at = 0;
  function show(i) {
    if (!rows.length) return;
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, n) => r.classList.toggle("current", n === at));
    rows[at].scrollIntoView({ block: "nearest" });
  }
  show(0);
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || (tag === "input" && e.target.type !== "checkbox")) return;
    const row = rows[at];
    const keys = {
      j: () => show(at + 1),
      k: () => show(at - 1),
      s: () => form.requestSubmit(row.querySelector(".sign-off-one")),
      " ": () => { const box = row.querySelector("input[type=checkbox]"); box.checked = !box.checked; },
      a: () => rows.forEach((r) => { r.querySelector("input[type=checkbox]").checked = true; }),
      enter: () => form.requestSubmit(document.getElementById("sign-off-selected")),
    };
    const action = keys[e.key.toLowerCase()];
    if (action) { e.preventDefault(); action(); }
  });
})();
