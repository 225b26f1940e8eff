// The crop editor: a box locked to the channel's aspect ratio over the preview. Drag it to
// move, drag a corner to resize, arrow keys nudge. The form sends the box as fractions of the
// master; the server fits it to the exact ratio again.
(function () {
  "use strict";
  const stage = document.getElementById("crop-stage");
  if (!stage) return;
  const img = document.getElementById("crop-img");
  const boxEl = document.getElementById("crop-box");
  const safeEl = document.getElementById("crop-safe");
  const focalEl = document.getElementById("crop-focal");
  const preview = document.getElementById("crop-preview");
  const previewImg = document.getElementById("crop-preview-img");
  const readout = document.getElementById("crop-readout");
  const tooSmall = document.getElementById("crop-too-small");
  const subjectWarning = document.getElementById("crop-subject-warning");
  // The live warning below replaces the one rendered for the saved crop.
  const savedWarnings = document.getElementById("crop-saved-warnings");
  if (savedWarnings) savedWarnings.hidden = true;
  function nums(text) { return text ? text.split(",").map(Number) : null; }
  function px(value) { return value + "px"; }
  const W = Number(stage.dataset.masterWidth);
  const H = Number(stage.dataset.masterHeight);
  const OW = Number(stage.dataset.outputWidth);
  const OH = Number(stage.dataset.outputHeight);
  // Width over height of the box in fraction units: (w * W) / (h * H) = OW / OH.
  const ratio = (OW / OH) * (H / W);
  const b = nums(stage.dataset.box);
  const box = { x: b[0] / W, y: b[1] / H, w: b[2] / W };
  const safe = nums(stage.dataset.safe) || [0, 0, 0, 0];
  const focal = nums(stage.dataset.focal);
  const inputs = ["x", "y", "w", "h"].map(function (k) { return document.getElementById("crop-" + k); });
  const MIN_W = 0.04;

  function h() { return box.w / ratio; }
  function clamp() {
    box.w = Math.min(box.w, 1, ratio);  // ratio: the widest box that is still tall enough
    box.x = Math.min(1 - box.w, Math.max(0, box.x));
    box.y = Math.min(1 - h(), Math.max(0, box.y));
  }
  function draw() {
    clamp();
    const r = img.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    const left = r.left - s.left;
    const top = r.top - s.top;
    boxEl.style.left = px(left + box.x * r.width);
    boxEl.style.top = px(top + box.y * r.height);
    boxEl.style.width = px(box.w * r.width);
    boxEl.style.height = px(h() * r.height);
    safeEl.style.top = safe[0] * 100 + "%";
    safeEl.style.right = safe[1] * 100 + "%";
    safeEl.style.bottom = safe[2] * 100 + "%";
    safeEl.style.left = safe[3] * 100 + "%";
    if (focal) {
      focalEl.hidden = false;
      focalEl.style.left = px(left + (focal[0] / W) * r.width);
      focalEl.style.top = px(top + (focal[1] / H) * r.height);
      focalEl.style.width = px((focal[2] / W) * r.width);
      focalEl.style.height = px((focal[3] / H) * r.height);
    }
    // The output preview shows exactly the boxed region at the channel's shape.
    const pw = preview.clientWidth;
    const ph = pw * OH / OW;
    preview.style.height = px(ph);
    const sx = pw / (box.w * W);
    const sy = ph / (h() * H);
    previewImg.style.width = px(W * sx);
    previewImg.style.height = px(H * sy);
    previewImg.style.left = px(-box.x * W * sx);
    previewImg.style.top = px(-box.y * H * sy);
    const cw = Math.round(box.w * W);
    const ch = Math.round(h() * H);
    readout.textContent = "Crop " + cw + "×" + ch + " px of the master → " + OW + "×" + OH + ".";
    tooSmall.hidden = cw + 1 >= OW && ch + 1 >= OH;
    subjectCheck();
    inputs[0].value = box.x.toFixed(6);
    inputs[1].value = box.y.toFixed(6);
    inputs[2].value = box.w.toFixed(6);
    inputs[3].value = h().toFixed(6);
  }

  // Says, while the box moves, whether it cuts the subject or crowds it into the safe area
  // (the same rules as the server's plan, in master pixels).
  function subjectCheck() {
    if (!focal || !subjectWarning) return;
    const bx = box.x * W, by = box.y * H, bw = box.w * W, bh = h() * H;
    const fx = focal[0], fy = focal[1], fr = focal[0] + focal[2], fb = focal[1] + focal[3];
    const slack = 1;  // a pixel of rounding
    let text = "";
    if (fx < bx - slack || fy < by - slack || fr > bx + bw + slack || fb > by + bh + slack) {
      text = "This crop cuts into the subject (the focal rectangle).";
    } else if (
      fx < bx + safe[3] * bw - slack || fr > bx + bw * (1 - safe[1]) + slack ||
      fy < by + safe[0] * bh - slack || fb > by + bh * (1 - safe[2]) + slack
    ) {
      text = "The subject reaches into this frame's safe area.";
    }
    subjectWarning.textContent = text;
    subjectWarning.hidden = !text;
  }

  function point(e) {
    const r = img.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }
  let drag = null;
  boxEl.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    const p = point(e);
    const handle = e.target.dataset ? e.target.dataset.handle : undefined;
    if (handle) {
      // The corner opposite the handle stays put.
      const ax = handle.includes("w") ? box.x + box.w : box.x;
      const ay = handle.includes("n") ? box.y + h() : box.y;
      drag = { mode: "resize", handle: handle, ax: ax, ay: ay };
    } else {
      drag = { mode: "move", dx: p[0] - box.x, dy: p[1] - box.y };
    }
    boxEl.setPointerCapture(e.pointerId);
  });
  boxEl.addEventListener("pointermove", function (e) {
    if (!drag) return;
    const p = point(e);
    if (drag.mode === "move") {
      box.x = p[0] - drag.dx;
      box.y = p[1] - drag.dy;
    } else {
      const west = drag.handle.includes("w");
      const north = drag.handle.includes("n");
      const roomX = west ? drag.ax : 1 - drag.ax;
      const roomY = north ? drag.ay : 1 - drag.ay;
      let w = Math.max(Math.abs(p[0] - drag.ax), Math.abs(p[1] - drag.ay) * ratio);
      w = Math.max(MIN_W, Math.min(w, roomX, roomY * ratio));
      box.w = w;
      box.x = west ? drag.ax - w : drag.ax;
      box.y = north ? drag.ay - w / ratio : drag.ay;
    }
    draw();
  });
  boxEl.addEventListener("pointerup", function () { drag = null; });
  boxEl.addEventListener("keydown", function (e) {
    const step = e.shiftKey ? 0.05 : 0.01;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (!moves[e.key]) return;
    e.preventDefault();
    box.x += moves[e.key][0];
    box.y += moves[e.key][1];
    draw();
  });
  if (img.complete) draw(); else img.addEventListener("load", draw);
  window.addEventListener("resize", draw);
})();
