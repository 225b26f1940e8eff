// The result page's wipe: the upscaled image over the source, both at the output's pixel size;
// the slider (or a drag on the image) moves the edge. Sizes come from data attributes because
// the CSP forbids inline styles (setting them from script is allowed).
(function () {
  "use strict";

  function start() {
    var wipe = document.getElementById("wipe");
    var range = document.getElementById("wipe-range");
    var result = document.getElementById("wipe-result");
    var line = document.getElementById("wipe-line");
    if (!wipe || !range || !result || !line) return;
    var width = parseInt(wipe.getAttribute("data-width"), 10) || 0;
    var height = parseInt(wipe.getAttribute("data-height"), 10) || 0;
    wipe.style.width = width + "px";
    wipe.style.height = height + "px";

    function set(percent) {
      percent = Math.max(0, Math.min(100, percent));
      range.value = String(percent);
      // Left of the line: the source; right of it: the upscaled result.
      result.style.clipPath = "inset(0 0 0 " + percent + "%)";
      line.style.left = percent + "%";
    }

    range.addEventListener("input", function () { set(parseFloat(range.value)); });
    var dragging = false;
    function fromPointer(event) {
      var box = wipe.getBoundingClientRect();
      set(((event.clientX - box.left) / box.width) * 100);
    }
    wipe.addEventListener("pointerdown", function (event) { dragging = true; fromPointer(event); });
    window.addEventListener("pointermove", function (event) { if (dragging) fromPointer(event); });
    window.addEventListener("pointerup", function () { dragging = false; });
    set(parseFloat(range.value) || 50);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
