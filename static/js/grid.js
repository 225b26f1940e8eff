// While previews are being made, refresh the grid fragment every two seconds.
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) return;
  function processing() {
    const ul = grid.querySelector(".grid");
    return ul && ul.dataset.processing;
  }
  async function poll() {
    if (!processing()) return;
    try {
      const resp = await fetch(grid.dataset.fragmentUrl, { credentials: "same-origin" });
      if (resp.ok) grid.innerHTML = await resp.text();
    } catch (err) { /* try again on the next tick */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
