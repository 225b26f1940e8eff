// The draft page's automatic checks: while they run, refresh the panel every two seconds.
(function () {
  "use strict";
  const panel = document.getElementById("checks-panel");
  const body = document.getElementById("checks-body");
  if (!panel || !body) return;
  function running() {
    const head = body.querySelector(".checks-head");
    return head && head.dataset.running === "1";
  }
  async function poll() {
    if (!running()) return;
    try {
      const resp = await fetch(panel.dataset.url, { credentials: "same-origin" });
      if (resp.ok) body.innerHTML = await resp.text();
    } catch (err) { /* try again on the next tick */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
