// Fit-to-screen, 100 % and free zoom with drag-to-pan. At 100 % and beyond the original file
// replaces the preview, so reviewers judge real pixels. Exposes window.draftViewer for keys.
(function () {
  "use strict";
  const stage = document.getElementById("stage");
  const img = document.getElementById("stage-img");
  if (!stage || !img) return;
  const fullW = Number(img.dataset.width);
  const fullH = Number(img.dataset.height);
  const label = document.getElementById("zoom-level");
  const state = { scale: 0, x: 0, y: 0, fit: true, full: false };

  function fitScale() {
    const r = stage.getBoundingClientRect();
    return Math.min(r.width / fullW, r.height / fullH, 1);
  }
  function clampPan() {
    const r = stage.getBoundingClientRect();
    const w = fullW * state.scale, h = fullH * state.scale;
    state.x = w <= r.width ? (r.width - w) / 2 : Math.min(0, Math.max(r.width - w, state.x));
    state.y = h <= r.height ? (r.height - h) / 2 : Math.min(0, Math.max(r.height - h, state.y));
  }
  function apply() {
    clampPan();
    img.style.width = fullW * state.scale + "px";
    img.style.height = fullH * state.scale + "px";
    img.style.transform = "translate(" + state.x + "px," + state.y + "px)";
    if (!state.full && state.scale > fitScale() * 1.01 && state.scale > 2048 / Math.max(fullW, fullH)) {
      state.full = true;
      img.src = img.dataset.fullSrc;
    }
    label.textContent = state.fit ? "fit" : Math.round(state.scale * 100) + " %";
    stage.classList.toggle("zoomed", !state.fit);
  }
  function zoomTo(scale, cx, cy) {
    const r = stage.getBoundingClientRect();
    cx = cx === undefined ? r.width / 2 : cx;
    cy = cy === undefined ? r.height / 2 : cy;
    const next = Math.max(fitScale() / 2, Math.min(8, scale));
    state.x = cx - ((cx - state.x) * next) / state.scale;
    state.y = cy - ((cy - state.y) * next) / state.scale;
    state.scale = next;
    state.fit = false;
    apply();
  }
  const api = {
    fit() { state.scale = fitScale(); state.fit = true; apply(); },
    actual() { zoomTo(1); },
    toggle() { if (state.fit) api.actual(); else api.fit(); },
    zoomIn() { zoomTo(state.scale * 1.25); },
    zoomOut() { zoomTo(state.scale / 1.25); },
    state,
  };
  window.draftViewer = api;

  document.getElementById("zoom-fit").addEventListener("click", api.fit);
  document.getElementById("zoom-100").addEventListener("click", api.actual);
  document.getElementById("zoom-in").addEventListener("click", api.zoomIn);
  document.getElementById("zoom-out").addEventListener("click", api.zoomOut);
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = stage.getBoundingClientRect();
    zoomTo(state.scale * (e.deltaY < 0 ? 1.15 : 1 / 1.15), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX - state.x, y: e.clientY - state.y };
    stage.setPointerCapture(e.pointerId);
    stage.classList.add("dragging");
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag) return;
    state.x = e.clientX - drag.x;
    state.y = e.clientY - drag.y;
    apply();
  });
  stage.addEventListener("pointerup", () => { drag = null; stage.classList.remove("dragging"); });
  stage.addEventListener("dblclick", (e) => {
    const r = stage.getBoundingClientRect();
    if (state.fit) zoomTo(1, e.clientX - r.left, e.clientY - r.top); else api.fit();
  });
  window.addEventListener("resize", () => { if (state.fit) api.fit(); else apply(); });
  api.fit();
})();
