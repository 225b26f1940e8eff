// Upscale jobs on the draft page and the result page: poll each active job's fragment and
// swap it in (static/js/poll.js), so the progress bar moves and the result links appear when
// it is done.
(function () {
  "use strict";
  // The result page shows the comparison once the file exists: load it when the job settles.
  function settled() {
    if (document.querySelector("[data-compare]") === null && document.querySelector(".upscale-page")) {
      window.location.reload();
    }
  }

  function start() {
    var nodes = document.querySelectorAll('.upscale-job[data-active="1"]');
    for (var i = 0; i < nodes.length; i++) {
      window.draftroomPoll.watch({
        target: nodes[i],
        url: nodes[i].getAttribute("data-status-url"),
        swap: "outer",
        busy: '[data-active="1"]',
        settled: settled,
      });
    }
    var custom = document.querySelector('.upscale-form input[name="custom_scale"]');
    if (custom) {
      custom.addEventListener("focus", function () {
        var radio = document.querySelector('.upscale-form input[name="target"][value="custom"]');
        if (radio) radio.checked = true;
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
