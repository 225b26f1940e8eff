// Batch grid: while previews are being made, refresh the grid fragment (static/js/poll.js).
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) return;
  window.draftroomPoll.watch({
    target: grid,
    url: grid.dataset.fragmentUrl,
    busy: ".grid[data-processing]:not([data-processing=''])",
  });
})();
