// The draft page's automatic checks: while they run, refresh the panel (static/js/poll.js).
(function () {
  "use strict";
  const panel = document.getElementById("checks-panel");
  const body = document.getElementById("checks-body");
  if (!panel || !body) return;
  window.draftroomPoll.watch({
    target: body,
    url: panel.dataset.url,
    busy: '.checks-head[data-running="1"]',
  });
})();
