// Upscale jobs on the draft page and the result page: poll each active job's fragment and
// swap it in, so the progress bar moves and the result links appear when it is done.
(function () {
  "use strict";
  var INTERVAL = 1500;

  function poll(node) {
    var url = node.getAttribute("data-status-url");
    if (!url) return;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (!fresh || !node.parentNode) return;
        node.parentNode.replaceChild(fresh, node);
        if (fresh.getAttribute("data-active") === "1") {
          window.setTimeout(function () { poll(fresh); }, INTERVAL);
        } else if (document.getElementById("wipe") === null && document.querySelector(".upscale-page")) {
          window.location.reload(); // the result page shows the comparison once the file exists
        }
      })
      .catch(function () { window.setTimeout(function () { poll(node); }, INTERVAL * 4); });
  }

  function start() {
    var nodes = document.querySelectorAll('.upscale-job[data-active="1"]');
    for (var i = 0; i < nodes.length; i++) {
      (function (node) { window.setTimeout(function () { poll(node); }, INTERVAL); })(nodes[i]);
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
