// Marked regions. On the review screen: drag rectangles on the image at any zoom (M or "Mark
// region"), give each a category and a note, toggle the overlays (O), and keep the new ones in
// the review form until the next decision saves them. Elsewhere: place the boxes of read-only
// figures (.region-figure). Boxes are fractions (0..1) of the image, so they follow zoom, pan
// and previews without any arithmetic on pixels. Exposes window.draftRegions for review.js.
(function () {
  "use strict";

  function place(el, box) {
    el.style.left = box.x * 100 + "%";
    el.style.top = box.y * 100 + "%";
    el.style.width = box.w * 100 + "%";
    el.style.height = box.h * 100 + "%";
  }

  // Read-only figures (assignment pages): the server renders the boxes with data attributes.
  document.querySelectorAll(".region-figure .region-box[data-x]").forEach((el) => {
    place(el, {
      x: Number(el.dataset.x), y: Number(el.dataset.y),
      w: Number(el.dataset.w), h: Number(el.dataset.h),
    });
  });

  const stage = document.getElementById("stage");
  const img = document.getElementById("stage-img");
  const layer = document.getElementById("region-layer");
  if (!stage || !img || !layer) return;

  const dataEl = document.getElementById("regions-data");
  let saved = dataEl ? JSON.parse(dataEl.textContent) : [];
  const canDraw = layer.dataset.canDraw === "1";
  const storageKey = "draftroom.regions." + layer.dataset.draftId + ".r" + layer.dataset.revision;
  const editor = document.getElementById("region-editor");
  const categorySelect = document.getElementById("region-category");
  const noteInput = document.getElementById("region-note");
  const input = document.getElementById("regions-input");
  const pendingBox = document.getElementById("pending-regions");
  const pendingList = document.getElementById("pending-region-list");
  const drawButton = document.getElementById("region-draw");
  const toggleButton = document.getElementById("region-toggle");
  const countEl = document.getElementById("region-count");
  const labels = {};
  if (categorySelect) {
    Array.from(categorySelect.options).forEach((o) => { labels[o.value] = o.textContent; });
  }
  saved.forEach((r) => { labels[r.category] = r.category_label; });

  let pending = loadPending();
  let visible = true;
  let drawing = false;
  let drag = null; // the rectangle being dragged: {x0, y0, box, el}
  let candidate = null; // a finished rectangle waiting for its category and note
  let pick = null; // someone else's one-shot request for a box (a comment's pin): a callback

  function loadPending() {
    if (!canDraw) return [];
    try {
      const value = JSON.parse(window.localStorage.getItem(storageKey) || "[]");
      return Array.isArray(value) ? value : [];
    } catch (err) {
      return [];
    }
  }
  function storePending() {
    // Kept in the browser too, so a reload before deciding does not lose the marks.
    try {
      if (pending.length) window.localStorage.setItem(storageKey, JSON.stringify(pending));
      else window.localStorage.removeItem(storageKey);
    } catch (err) { /* private mode: the form field still carries them */ }
    if (input) input.value = pending.length ? JSON.stringify(pending) : "";
  }

  // Keep the layer exactly over the image: viewer.js writes the image's size and translation.
  function syncLayer() {
    layer.style.width = img.style.width;
    layer.style.height = img.style.height;
    layer.style.transform = img.style.transform;
  }
  new MutationObserver(syncLayer).observe(img, { attributes: true, attributeFilter: ["style"] });
  syncLayer();

  function boxElement(box, text, classes) {
    const el = document.createElement("div");
    el.className = "region-box " + classes;
    place(el, box);
    const tag = document.createElement("span");
    tag.className = "region-tag";
    tag.textContent = text;
    el.appendChild(tag);
    return el;
  }

  function render() {
    const boxes = [];
    saved.forEach((r, i) => {
      const el = boxElement(r, i + 1 + " " + r.category_label,
        "cat-" + r.category + (r.current === false ? " earlier" : ""));
      el.dataset.regionId = r.id;
      boxes.push(el);
    });
    pending.forEach((r, i) => {
      boxes.push(boxElement(r, "new " + (i + 1) + " " + (labels[r.category] || r.category),
        "pending cat-" + r.category));
    });
    if (drag) boxes.push(drag.el);
    if (candidate) boxes.push(candidate.el);
    layer.replaceChildren(...boxes);
    layer.classList.toggle("regions-hidden", !visible && !drawing);
    if (countEl) countEl.textContent = String(saved.length + pending.length);
    renderPending();
  }

  function renderPending() {
    if (!pendingList) return;
    pendingBox.hidden = pending.length === 0;
    pendingList.replaceChildren(...pending.map((r, i) => {
      const li = document.createElement("li");
      li.className = "region-item pending cat-" + r.category;
      const num = document.createElement("span");
      num.className = "region-num";
      num.textContent = "new " + (i + 1);
      const strong = document.createElement("strong");
      strong.textContent = labels[r.category] || r.category;
      li.append(num, " ", strong, r.note ? ": " + r.note : "");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button region-remove";
      remove.title = "Remove this region";
      remove.textContent = "×";
      remove.addEventListener("click", () => { pending.splice(i, 1); storePending(); render(); });
      li.append(" ", remove);
      return li;
    }));
  }

  function setDrawing(on) {
    // Any member may pin a comment; only reviewers mark regions for a decision.
    drawing = on && (canDraw || pick !== null);
    if (!on) pick = null;
    layer.classList.toggle("drawing", drawing);
    stage.classList.toggle("drawing-regions", drawing);
    if (drawButton) drawButton.setAttribute("aria-pressed", String(drawing));
    if (!drawing) closeEditor();
    render();
  }
  function setVisible(on) {
    visible = on;
    if (toggleButton) toggleButton.setAttribute("aria-pressed", String(visible));
    render();
  }

  function point(e) {
    const r = layer.getBoundingClientRect();
    return {
      x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)),
      y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)),
    };
  }

  layer.addEventListener("pointerdown", (e) => {
    if (!drawing || e.button !== 0) return;
    // Drawing, not panning: the stage's own drag handler must not see this press.
    e.stopPropagation();
    e.preventDefault();
    closeEditor();
    const p = point(e);
    const box = { x: p.x, y: p.y, w: 0, h: 0 };
    drag = { x0: p.x, y0: p.y, box, el: boxElement(box, "", "drawing-box") };
    layer.setPointerCapture(e.pointerId);
    render();
  });
  layer.addEventListener("pointermove", (e) => {
    if (!drag) return;
    e.stopPropagation();
    const p = point(e);
    drag.box.x = Math.min(drag.x0, p.x);
    drag.box.y = Math.min(drag.y0, p.y);
    drag.box.w = Math.abs(p.x - drag.x0);
    drag.box.h = Math.abs(p.y - drag.y0);
    place(drag.el, drag.box);
  });
  layer.addEventListener("pointerup", (e) => {
    if (!drag) return;
    e.stopPropagation();
    const r = layer.getBoundingClientRect();
    const done = drag;
    drag = null;
    // A click or a tiny wobble is not a region.
    if (done.box.w * r.width < 4 || done.box.h * r.height < 4) { render(); return; }
    if (pick) {
      const callback = pick;
      const b = done.box;
      setDrawing(false);
      callback({ x: +b.x.toFixed(6), y: +b.y.toFixed(6), w: +b.w.toFixed(6), h: +b.h.toFixed(6) });
      return;
    }
    candidate = done;
    openEditor(e);
    render();
  });
  layer.addEventListener("dblclick", (e) => { if (drawing) e.stopPropagation(); });

  function openEditor() {
    if (!editor) return;
    const stageRect = stage.getBoundingClientRect();
    const boxRect = candidate.el.getBoundingClientRect();
    editor.hidden = false;
    const left = Math.min(boxRect.right - stageRect.left + 8, stageRect.width - editor.offsetWidth - 8);
    const top = Math.min(Math.max(8, boxRect.top - stageRect.top), stageRect.height - editor.offsetHeight - 8);
    editor.style.left = Math.max(8, left) + "px";
    editor.style.top = Math.max(8, top) + "px";
    noteInput.value = "";
    categorySelect.focus();
  }
  function closeEditor() {
    candidate = null;
    if (editor) editor.hidden = true;
  }
  function addCandidate() {
    if (!candidate) return;
    const b = candidate.box;
    pending.push({
      category: categorySelect.value,
      note: noteInput.value.trim(),
      x: +b.x.toFixed(6), y: +b.y.toFixed(6), w: +b.w.toFixed(6), h: +b.h.toFixed(6),
    });
    storePending();
    closeEditor();
    render();
  }

  if (editor) {
    // The editor floats on the stage: presses inside it must not pan or draw.
    editor.addEventListener("pointerdown", (e) => e.stopPropagation());
    editor.addEventListener("dblclick", (e) => e.stopPropagation());
    editor.addEventListener("wheel", (e) => e.stopPropagation());
    document.getElementById("region-add").addEventListener("click", addCandidate);
    document.getElementById("region-cancel").addEventListener("click", () => { closeEditor(); render(); });
    editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); addCandidate(); }
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); closeEditor(); render(); }
    });
  }
  if (drawButton) drawButton.addEventListener("click", () => setDrawing(!drawing));
  if (toggleButton) toggleButton.addEventListener("click", () => setVisible(!visible));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || (tag === "input" && e.target.type !== "radio")) return;
    const key = e.key.toLowerCase();
    if (key === "m" && canDraw) { e.preventDefault(); setDrawing(!drawing); }
    else if (key === "o") { e.preventDefault(); setVisible(!visible); }
    else if (key === "escape" && drawing) { e.preventDefault(); setDrawing(false); }
  });

  // Pointing at a listed region lights up its box.
  document.addEventListener("mouseover", (e) => {
    const item = e.target.closest && e.target.closest(".region-item[data-region-id]");
    layer.querySelectorAll(".region-box.hot").forEach((el) => el.classList.remove("hot"));
    if (item) {
      const box = layer.querySelector('.region-box[data-region-id="' + item.dataset.regionId + '"]');
      if (box) box.classList.add("hot");
    }
  });

  window.draftRegions = {
    pendingCount() { return pending.length; },
    // One rectangle for someone else (static/js/comments.js): ``callback(box)`` gets fractions.
    pickBox(callback) { pick = callback; setDrawing(true); },
    cancelPick() { setDrawing(false); },
    // Show a box for a moment (a comment's pin) over the image.
    flash(box, text) {
      const el = boxElement(box, text, "comment-pin");
      layer.appendChild(el);
      layer.classList.remove("regions-hidden");
      window.setTimeout(() => { el.remove(); render(); }, 4000);
    },
    // After a decision is saved: the pending regions now belong to that review.
    submitted(data) {
      pending = [];
      storePending();
      if (Array.isArray(data.regions)) saved = data.regions;
      const panel = document.getElementById("regions-panel");
      if (panel && data.regions_html) panel.outerHTML = data.regions_html;
      setDrawing(false);
    },
  };
  storePending();
  render();
})();
