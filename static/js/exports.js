// Channel sheet and packs: poll job fragments while a job runs (static/js/poll.js), lay out each
// preset's crop over the preview, and let people mark the subject (focal rectangle) by dragging
// on the picture.
// Every style is set from here (the CSP allows no inline styles).
(function () {
  "use strict";
  function nums(text) { return text ? text.split(",").map(Number) : null; }
  function px(value) { return value + "px"; }

  // --- polling -------------------------------------------------------------------------------
  document.querySelectorAll("[data-poll-url]").forEach(function (box) {
    window.draftroomPoll.watch({
      target: box,
      url: box.dataset.pollUrl,
      busy: '[data-active="1"]',
      // The sheet's cards show the files once the export is done: load them.
      settled: box.dataset.reloadWhenDone ? function () { window.location.reload(); } : null,
    });
  });

  // --- crop previews on the sheet --------------------------------------------------------------
  function layoutCropView(view) {
    const crop = nums(view.dataset.crop);
    const master = nums(view.dataset.master);
    const out = nums(view.dataset.output);
    const safe = nums(view.dataset.safe) || [0, 0, 0, 0];
    const focal = nums(view.dataset.focal);
    const width = view.clientWidth;
    const height = width * out[1] / out[0];
    view.style.height = px(height);
    const sx = width / crop[2];
    const sy = height / crop[3];
    const img = view.querySelector("img.cropped");
    if (img) {
      img.style.width = px(master[0] * sx);
      img.style.height = px(master[1] * sy);
      img.style.left = px(-crop[0] * sx);
      img.style.top = px(-crop[1] * sy);
    }
    let bands = view.querySelectorAll(".safe-band");
    if (!bands.length) {
      ["top", "right", "bottom", "left"].forEach(function (side, i) {
        if (safe[i] > 0) {
          const band = document.createElement("div");
          band.className = "safe-band safe-" + side;
          band.title = "Safe area: keep the subject out";
          view.appendChild(band);
        }
      });
      bands = view.querySelectorAll(".safe-band");
    }
    bands.forEach(function (band) {
      if (band.classList.contains("safe-top")) { band.style.height = px(safe[0] * height); }
      if (band.classList.contains("safe-right")) { band.style.width = px(safe[1] * width); }
      if (band.classList.contains("safe-bottom")) { band.style.height = px(safe[2] * height); }
      if (band.classList.contains("safe-left")) { band.style.width = px(safe[3] * width); }
    });
    if (focal) {
      let mark = view.querySelector(".focal-mark");
      if (!mark) {
        mark = document.createElement("div");
        mark.className = "focal-mark";
        view.appendChild(mark);
      }
      mark.style.left = px((focal[0] - crop[0]) * sx);
      mark.style.top = px((focal[1] - crop[1]) * sy);
      mark.style.width = px(focal[2] * sx);
      mark.style.height = px(focal[3] * sy);
    }
  }
  const views = document.querySelectorAll(".crop-view");
  views.forEach(layoutCropView);
  window.addEventListener("resize", function () { views.forEach(layoutCropView); });

  // --- the subject (focal rectangle) editor ------------------------------------------------------
  const stage = document.getElementById("focal-stage");
  if (!stage) return;
  const img = document.getElementById("focal-img");
  const boxEl = document.getElementById("focal-box");
  const W = Number(stage.dataset.masterWidth);
  const H = Number(stage.dataset.masterHeight);
  const start = nums(stage.dataset.box);
  let frac = start ? [start[0] / W, start[1] / H, start[2] / W, start[3] / H] : null;
  const inputs = ["x", "y", "w", "h"].map(function (k) { return document.getElementById("focal-" + k); });

  function draw() {
    if (!frac) { boxEl.hidden = true; return; }
    const r = img.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    boxEl.hidden = false;
    boxEl.style.left = px(r.left - s.left + frac[0] * r.width);
    boxEl.style.top = px(r.top - s.top + frac[1] * r.height);
    boxEl.style.width = px(frac[2] * r.width);
    boxEl.style.height = px(frac[3] * r.height);
    if (inputs[0]) inputs.forEach(function (input, i) { input.value = frac[i].toFixed(6); });
  }
  if (img.complete) draw(); else img.addEventListener("load", draw);
  window.addEventListener("resize", draw);
  if (!stage.dataset.editable) return;

  function point(e) {
    const r = img.getBoundingClientRect();
    return [
      Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)),
      Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)),
    ];
  }
  let drag = null;
  stage.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    const p = point(e);
    const inside = frac && p[0] >= frac[0] && p[0] <= frac[0] + frac[2] &&
      p[1] >= frac[1] && p[1] <= frac[1] + frac[3];
    drag = inside ? { mode: "move", dx: p[0] - frac[0], dy: p[1] - frac[1], before: frac.slice() }
      : { mode: "draw", origin: p, before: frac ? frac.slice() : null };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener("pointermove", function (e) {
    if (!drag) return;
    const p = point(e);
    if (drag.mode === "move") {
      frac = [
        Math.min(1 - frac[2], Math.max(0, p[0] - drag.dx)),
        Math.min(1 - frac[3], Math.max(0, p[1] - drag.dy)),
        frac[2], frac[3],
      ];
    } else {
      const o = drag.origin;
      frac = [Math.min(o[0], p[0]), Math.min(o[1], p[1]), Math.abs(p[0] - o[0]), Math.abs(p[1] - o[1])];
    }
    draw();
  });
  stage.addEventListener("pointerup", function () {
    if (drag && drag.mode === "draw" && (!frac || frac[2] < 0.01 || frac[3] < 0.01)) {
      frac = drag.before;  // a click, not a drag: keep the box there was
    }
    drag = null;
    draw();
  });
})();
