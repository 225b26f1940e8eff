// Batch grid: the check filter and sort apply as soon as they change, and tiles whose checks are
// still running are refreshed (grid.js already refreshes while previews are being made).
(function () {
  "use strict";
  const form = document.getElementById("check-controls");
  if (form) {
    const apply = document.getElementById("check-apply");
    if (apply) apply.hidden = true;
    form.addEventListener("change", function () { form.submit(); });
  }
  const grid = document.getElementById("grid");
  if (!grid) return;
  function waiting() {
    const ul = grid.querySelector(".grid");
    if (!ul || ul.dataset.processing) return false; // grid.js is polling already
    return grid.querySelector(".check-badge.check-pending[data-running]") !== null;
  }
  async function poll() {
    if (!waiting()) return;
    try {
      const resp = await fetch(grid.dataset.fragmentUrl, { credentials: "same-origin" });
      if (resp.ok) grid.innerHTML = await resp.text();
    } catch (err) { /* try again on the next tick */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
