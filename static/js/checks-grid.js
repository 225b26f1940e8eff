// Batch grid: the check filter and sort apply as soon as they change, and tiles whose checks are
// still running are refreshed. grid.js watches the same fragment for previews; poll.js lets
// both share one poller, so the grid is fetched once per tick while either is waiting.
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
  window.draftroomPoll.watch({
    target: grid,
    url: grid.dataset.fragmentUrl,
    busy: ".check-badge.check-pending[data-running]",
  });
})();
