// Batch grid: while previews are being made, refresh the grid fragment (static/js/poll.js);
// and, live, when someone else decides in the batch, show their decisions on the cards and in
// the filter counts without a reload.
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) return;
  // The filter links sit outside the fragment; the fragment carries the counts.
  function showCounts(target) {
    target.querySelectorAll(".grid-counts [data-count]").forEach(function (count) {
      const shown = document.querySelector(".filters .filter-" + count.dataset.count + " .n");
      if (shown) shown.textContent = count.textContent;
    });
  }
  window.draftroomPoll.watch({
    target: grid,
    url: grid.dataset.fragmentUrl,
    busy: ".grid[data-processing]:not([data-processing=''])",
    // Only a batch grid carries a version to ask about; a search grid is not watched live.
    live: grid.querySelector(".grid[data-version]") !== null,
    changed: showCounts,
  });
})();
