// Two versions side by side or under a wipe slider. One view state drives both images: in
// fit each image fits its pane; otherwise the zoom is screen pixels per source pixel, so
// 100 % shows real pixels in both. The pan is one point given as fractions of each image, so
// a parent and its regeneration (or two revisions) stay aligned while you move around.
// Exposes window.draftCompare for tests and keys.
(function () {
  "use strict";
  const root = document.getElementById("compare");
  if (!root) return;
  const data = JSON.parse(document.getElementById("compare-images").textContent);
  const stage = document.getElementById("compare-stage");
  const panes = { a: document.getElementById("pane-a"), b: document.getElementById("pane-b") };
  const imgs = { a: document.getElementById("img-a"), b: document.getElementById("img-b") };
  const handle = document.getElementById("wipe-handle");
  const range = document.getElementById("wipe-range");
  const zoomLabel = document.getElementById("cmp-zoom");
  const selects = { a: document.getElementById("compare-a"), b: document.getElementById("compare-b") };
  const modeField = document.getElementById("compare-mode-field");
  const state = { mode: root.dataset.mode === "wipe" ? "wipe" : "side", fit: true, scale: 1, cu: 0.5, cv: 0.5, wipe: 0.5 };
  const full = { a: false, b: false };
  const placed = { a: null, b: null };

  function rectOf(side) { return panes[side].getBoundingClientRect(); }
  function fitScale(side) {
    const r = rectOf(side), d = data[side];
    return Math.min(r.width / d.width, r.height / d.height, 1);
  }
  function scaleOf(side) { return state.fit ? fitScale(side) : state.scale; }

  // Place one image; returns the fractions of it that sit at the pane's centre after clamping.
  function place(side) {
    const d = data[side], img = imgs[side], r = rectOf(side);
    const s = scaleOf(side);
    const w = d.width * s, h = d.height * s;
    const x = w <= r.width ? (r.width - w) / 2 : Math.min(0, Math.max(r.width - w, r.width / 2 - state.cu * w));
    const y = h <= r.height ? (r.height - h) / 2 : Math.min(0, Math.max(r.height - h, r.height / 2 - state.cv * h));
    img.style.width = w + "px";
    img.style.height = h + "px";
    img.style.transform = "translate(" + x + "px," + y + "px)";
    placed[side] = { x, y, w, h };
    // Past the preview's resolution, show the real file.
    const previewScale = Math.min(1, 2048 / Math.max(d.width, d.height));
    if (!full[side] && d.fullSrc !== d.src && s > previewScale * 1.001) {
      full[side] = true;
      img.src = d.fullSrc;
    }
    return {
      cu: w > r.width ? (r.width / 2 - x) / w : state.cu,
      cv: h > r.height ? (r.height / 2 - y) / h : state.cv,
    };
  }

  function apply() {
    stage.classList.toggle("mode-wipe", state.mode === "wipe");
    stage.classList.toggle("mode-side", state.mode === "side");
    // The left image leads: its clamped centre becomes the shared one.
    const centre = place("a");
    state.cu = centre.cu;
    state.cv = centre.cv;
    place("b");
    const r = stage.getBoundingClientRect();
    if (state.mode === "wipe") {
      const at = state.wipe * r.width;
      panes.b.style.clipPath = "inset(0 0 0 " + at + "px)";
      handle.style.left = at + "px";
      handle.hidden = false;
    } else {
      panes.b.style.clipPath = "";
      handle.hidden = true;
    }
    range.value = String(Math.round(state.wipe * 100));
    range.disabled = state.mode !== "wipe";
    zoomLabel.textContent = state.fit ? "fit" : Math.round(state.scale * 100) + " %";
    stage.classList.toggle("zoomed", !state.fit);
    document.getElementById("mode-side").setAttribute("aria-pressed", String(state.mode === "side"));
    document.getElementById("mode-wipe").setAttribute("aria-pressed", String(state.mode === "wipe"));
  }

  function zoomTo(scale, side, px, py) {
    side = side || "a";
    const r = rectOf(side);
    px = px === undefined ? r.width / 2 : px;
    py = py === undefined ? r.height / 2 : py;
    const p = placed[side];
    const u = (px - p.x) / p.w, v = (py - p.y) / p.h;
    const floor = Math.min(fitScale("a"), fitScale("b")) / 2;
    const next = Math.max(floor, Math.min(8, scale));
    const d = data[side];
    // Keep the point under the cursor where it is.
    state.cu = (r.width / 2 - px) / (d.width * next) + u;
    state.cv = (r.height / 2 - py) / (d.height * next) + v;
    state.scale = next;
    state.fit = false;
    apply();
  }

  const api = {
    state,
    fit() { state.fit = true; state.cu = 0.5; state.cv = 0.5; apply(); },
    actual() { zoomTo(1); },
    toggle() { if (state.fit) api.actual(); else api.fit(); },
    zoomIn() { zoomTo(scaleOf("a") * 1.25); },
    zoomOut() { zoomTo(scaleOf("a") / 1.25); },
    setMode(mode) {
      state.mode = mode;
      if (modeField) modeField.value = mode;
      const url = new URL(window.location.href);
      url.searchParams.set("mode", mode);
      window.history.replaceState(null, "", url);
      apply();
    },
    setWipe(fraction) { state.wipe = Math.max(0, Math.min(1, fraction)); apply(); },
    placed,
  };
  window.draftCompare = api;

  function go(a, b) {
    const url = new URL(window.location.href);
    url.searchParams.set("a", a);
    url.searchParams.set("b", b);
    url.searchParams.set("mode", state.mode);
    window.location.assign(url);
  }
  selects.a.addEventListener("change", () => go(selects.a.value, selects.b.value));
  selects.b.addEventListener("change", () => go(selects.a.value, selects.b.value));
  document.getElementById("compare-swap").addEventListener("click", () => go(selects.b.value, selects.a.value));
  document.getElementById("mode-side").addEventListener("click", () => api.setMode("side"));
  document.getElementById("mode-wipe").addEventListener("click", () => api.setMode("wipe"));
  document.getElementById("cmp-fit").addEventListener("click", api.fit);
  document.getElementById("cmp-100").addEventListener("click", api.actual);
  document.getElementById("cmp-in").addEventListener("click", api.zoomIn);
  document.getElementById("cmp-out").addEventListener("click", api.zoomOut);
  range.addEventListener("input", () => api.setWipe(Number(range.value) / 100));

  Object.keys(panes).forEach((side) => {
    const pane = panes[side];
    pane.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = rectOf(side);
      zoomTo(scaleOf(side) * (e.deltaY < 0 ? 1.15 : 1 / 1.15), side, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    pane.addEventListener("dblclick", (e) => {
      const r = rectOf(side);
      if (state.fit) zoomTo(1, side, e.clientX - r.left, e.clientY - r.top); else api.fit();
    });
    let drag = null;
    pane.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, cu: state.cu, cv: state.cv };
      pane.setPointerCapture(e.pointerId);
      stage.classList.add("dragging");
    });
    pane.addEventListener("pointermove", (e) => {
      if (!drag || state.fit) return;
      const p = placed[side];
      state.cu = drag.cu - (e.clientX - drag.x) / p.w;
      state.cv = drag.cv - (e.clientY - drag.y) / p.h;
      apply();
    });
    pane.addEventListener("pointerup", () => { drag = null; stage.classList.remove("dragging"); });
  });

  let wiping = false;
  handle.addEventListener("pointerdown", (e) => {
    e.stopPropagation();
    wiping = true;
    handle.setPointerCapture(e.pointerId);
  });
  handle.addEventListener("pointermove", (e) => {
    if (!wiping) return;
    const r = stage.getBoundingClientRect();
    api.setWipe((e.clientX - r.left) / r.width);
  });
  handle.addEventListener("pointerup", () => { wiping = false; });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" && e.target.type !== "range") return;
    if (tag === "select" || tag === "textarea") return;
    const keys = {
      w: () => api.setMode(state.mode === "wipe" ? "side" : "wipe"),
      z: api.toggle,
      "0": api.fit,
      "+": api.zoomIn,
      "=": api.zoomIn,
      "-": api.zoomOut,
      s: () => go(selects.b.value, selects.a.value),
      "[": () => api.setWipe(state.wipe - 0.05),
      "]": () => api.setWipe(state.wipe + 0.05),
    };
    const action = keys[e.key.toLowerCase()];
    if (action) { e.preventDefault(); action(); }
  });
  window.addEventListener("resize", apply);
  apply();
})();
