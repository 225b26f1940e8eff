// The one compare component (templates/core/partials/compare.html): two images under a wipe,
// side by side or as an onion skin, used by the version compare and the upscale result page.
//
// Geometry. Both images are drawn into one frame the size of the larger image's real pixels;
// the smaller one is scaled to fill the same frame (fitted and centred if the shapes differ),
// so a 512² parent and its 1024² regeneration cover the same screen box at every zoom and a
// feature lands on the same screen point in both panes. One view state drives every pane: the
// scale (screen px per frame px: 1 is 100 % of the larger image) and the frame point at the
// pane's centre. It opens at fit with the divider centred; drag pans, wheel or pinch zooms
// around the pointer, + − 0 Z and the buttons zoom from the keyboard.
//
// Exposes window.draftroomCompare (the page's component) for tests and keys.
(function () {
  "use strict";
  var MODES = ["wipe", "side", "onion"];
  var MAX_SCALE = 8;

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  function Compare(root) {
    var self = this;
    this.root = root;
    this.images = JSON.parse(document.getElementById(root.getAttribute("data-images")).textContent);
    this.stage = root.querySelector('[data-cmp="stage"]');
    this.panes = {};
    this.imgs = {};
    this.shown = {};
    this.labels = {};
    ["a", "b"].forEach(function (side) {
      self.panes[side] = root.querySelector('.cmp-pane[data-side="' + side + '"]');
      self.imgs[side] = self.panes[side].querySelector(".cmp-img");
      self.labels[side] = {
        name: self.panes[side].querySelector(".cmp-label-name"),
        size: self.panes[side].querySelector(".cmp-label-size"),
      };
      self.shown[side] = self.panes[side].querySelector(".cmp-label-shown");
    });
    this.divider = root.querySelector('[data-cmp="divider"]');
    this.wipeRange = root.querySelector('[data-cmp="wipe"]');
    this.opacityRange = root.querySelector('[data-cmp="opacity"]');
    this.level = root.querySelector('[data-cmp="level"]');
    this.full = { a: false, b: false };
    var mode = root.getAttribute("data-mode");
    this.state = {
      mode: MODES.indexOf(mode) >= 0 ? mode : "wipe",
      fit: true,
      scale: 1,
      cx: 0,
      cy: 0,
      wipe: 0.5,
      opacity: 0.5,
    };
    this.geometry = {};
    this.bind();
    this.fit();
    if (root.getAttribute("data-zoom") === "100") this.actual();
  }

  // The frame: the larger image's real pixels (by area; the left one on a tie).
  Compare.prototype.frame = function () {
    var a = this.images.a, b = this.images.b;
    var big = b.width * b.height > a.width * a.height ? b : a;
    return { width: big.width, height: big.height };
  };

  // Where an image sits in the frame: fitted inside it and centred (a no-op for equal shapes).
  Compare.prototype.inFrame = function (side) {
    var f = this.frame(), d = this.images[side];
    var k = Math.min(f.width / d.width, f.height / d.height);
    var w = d.width * k, h = d.height * k;
    return { x: (f.width - w) / 2, y: (f.height - h) / 2, w: w, h: h };
  };

  // Every pane has the same size (a grid of equal tracks, or stacked on one another).
  Compare.prototype.paneBox = function () {
    var r = this.panes.a.getBoundingClientRect();
    return { width: r.width, height: r.height };
  };

  Compare.prototype.fitScale = function () {
    var p = this.paneBox(), f = this.frame();
    return Math.min(p.width / f.width, p.height / f.height, 1);
  };

  // Keep the frame centred where it is smaller than the pane, and covering it where larger.
  Compare.prototype.clampCentre = function () {
    var s = this.state, p = this.paneBox(), f = this.frame();
    var halfW = p.width / 2 / s.scale, halfH = p.height / 2 / s.scale;
    s.cx = f.width * s.scale <= p.width ? f.width / 2 : clamp(s.cx, halfW, f.width - halfW);
    s.cy = f.height * s.scale <= p.height ? f.height / 2 : clamp(s.cy, halfH, f.height - halfH);
  };

  Compare.prototype.apply = function () {
    var self = this, s = this.state;
    if (s.fit) s.scale = this.fitScale();
    this.clampCentre();
    var p = this.paneBox();
    // The frame's top-left corner in pane coordinates.
    var ox = p.width / 2 - s.cx * s.scale, oy = p.height / 2 - s.cy * s.scale;
    ["a", "b"].forEach(function (side) {
      var d = self.images[side], img = self.imgs[side], at = self.inFrame(side);
      var x = ox + at.x * s.scale, y = oy + at.y * s.scale;
      var w = at.w * s.scale, h = at.h * s.scale;
      img.style.width = w + "px";
      img.style.height = h + "px";
      img.style.transform = "translate(" + x + "px," + y + "px)";
      self.geometry[side] = { x: x, y: y, width: w, height: h };
      var real = w / d.width; // screen px per real pixel of this image
      if (self.shown[side]) self.shown[side].textContent = " at " + Math.round(real * 100) + " %";
      // Past the preview's resolution, show the real file.
      // srcSide: the longest side of what src holds (apps/core/compare.py).
      var previewScale = Math.min(1, d.srcSide / Math.max(d.width, d.height));
      if (!self.full[side] && d.fullSrc && d.fullSrc !== d.src && real > previewScale * 1.001) {
        self.full[side] = true;
        img.src = d.fullSrc;
      }
    });
    var stage = this.stage;
    MODES.forEach(function (mode) { stage.classList.toggle("mode-" + mode, s.mode === mode); });
    stage.classList.toggle("zoomed", !s.fit);
    this.root.setAttribute("data-mode", s.mode);
    this.root.querySelectorAll("[data-cmp-mode]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-cmp-mode") === s.mode));
    });
    this.root.querySelectorAll("[data-for-mode]").forEach(function (el) {
      el.hidden = el.getAttribute("data-for-mode") !== s.mode;
    });
    var paneB = this.panes.b;
    if (s.mode === "wipe") {
      var at = s.wipe * this.stage.getBoundingClientRect().width;
      paneB.style.clipPath = "inset(0 0 0 " + at + "px)";
      paneB.style.opacity = "";
      this.divider.style.left = at + "px";
      this.divider.hidden = false;
      this.divider.setAttribute("aria-valuenow", String(Math.round(s.wipe * 100)));
    } else {
      paneB.style.clipPath = "";
      paneB.style.opacity = s.mode === "onion" ? String(s.opacity) : "";
      this.divider.hidden = true;
    }
    this.wipeRange.value = String(Math.round(s.wipe * 100));
    this.opacityRange.value = String(Math.round(s.opacity * 100));
    this.level.textContent = s.fit ? "fit" : Math.round(s.scale * 100) + " %";
  };

  // Zoom to `scale` keeping the frame point under (px, py) of a pane where it is.
  Compare.prototype.zoomTo = function (scale, px, py) {
    var s = this.state, p = this.paneBox();
    if (s.fit) s.scale = this.fitScale();
    px = px === undefined ? p.width / 2 : px;
    py = py === undefined ? p.height / 2 : py;
    var next = clamp(scale, Math.min(this.fitScale(), 1) / 2, MAX_SCALE);
    var fx = s.cx + (px - p.width / 2) / s.scale, fy = s.cy + (py - p.height / 2) / s.scale;
    s.cx = fx - (px - p.width / 2) / next;
    s.cy = fy - (py - p.height / 2) / next;
    s.scale = next;
    s.fit = false;
    this.apply();
  };

  Compare.prototype.fit = function () {
    var f = this.frame();
    this.state.fit = true;
    this.state.cx = f.width / 2;
    this.state.cy = f.height / 2;
    this.apply();
  };
  Compare.prototype.actual = function () { this.zoomTo(1); };
  Compare.prototype.toggle = function () { if (this.state.fit) this.actual(); else this.fit(); };
  Compare.prototype.zoomIn = function () { this.zoomTo(this.state.scale * 1.25); };
  Compare.prototype.zoomOut = function () { this.zoomTo(this.state.scale / 1.25); };
  Compare.prototype.setWipe = function (fraction) { this.state.wipe = clamp(fraction, 0, 1); this.apply(); };
  Compare.prototype.setOpacity = function (fraction) { this.state.opacity = clamp(fraction, 0, 1); this.apply(); };

  Compare.prototype.setMode = function (mode) {
    if (MODES.indexOf(mode) < 0) return;
    this.state.mode = mode;
    // The panes change size between modes: the same view, re-fitted or re-clamped.
    this.apply();
    var url = new URL(window.location.href);
    url.searchParams.set("mode", mode);
    window.history.replaceState(null, "", url);
  };
  Compare.prototype.nextMode = function () {
    this.setMode(MODES[(MODES.indexOf(this.state.mode) + 1) % MODES.length]);
  };

  // Left becomes right: images, labels and anything on the page that lists the two sides.
  Compare.prototype.swap = function () {
    var self = this, a = this.images.a;
    this.images.a = this.images.b;
    this.images.b = a;
    ["a", "b"].forEach(function (side) {
      var d = self.images[side], img = self.imgs[side];
      self.full[side] = false;
      img.src = d.src;
      img.alt = d.label;
      self.labels[side].name.textContent = d.label;
      self.labels[side].size.textContent = d.width + "×" + d.height;
    });
    this.apply();
    this.root.dispatchEvent(new CustomEvent("compare:swap", { bubbles: true }));
  };

  Compare.prototype.bind = function () {
    var self = this, root = this.root, stage = this.stage;
    function on(name, handler) {
      var el = root.querySelector('[data-cmp="' + name + '"]');
      if (el) el.addEventListener("click", handler);
    }
    on("fit", function () { self.fit(); });
    on("actual", function () { self.actual(); });
    on("in", function () { self.zoomIn(); });
    on("out", function () { self.zoomOut(); });
    on("swap", function () { self.swap(); });
    root.querySelectorAll("[data-cmp-mode]").forEach(function (button) {
      button.addEventListener("click", function () { self.setMode(button.getAttribute("data-cmp-mode")); });
    });
    this.wipeRange.addEventListener("input", function () { self.setWipe(Number(self.wipeRange.value) / 100); });
    this.opacityRange.addEventListener("input", function () { self.setOpacity(Number(self.opacityRange.value) / 100); });

    // Pointer coordinates relative to the pane under them (every pane has the same geometry).
    function inPane(e) {
      var panes = self.state.mode === "side" ? [self.panes.a, self.panes.b] : [self.panes.a];
      for (var i = 0; i < panes.length; i++) {
        var r = panes[i].getBoundingClientRect();
        if (i === panes.length - 1 || (e.clientX <= r.right && e.clientY <= r.bottom)) {
          return { x: e.clientX - r.left, y: e.clientY - r.top };
        }
      }
      return null;
    }

    stage.addEventListener("wheel", function (e) {
      e.preventDefault();
      var at = inPane(e);
      self.zoomTo(self.state.scale * (e.deltaY < 0 ? 1.15 : 1 / 1.15), at.x, at.y);
    }, { passive: false });
    stage.addEventListener("dblclick", function (e) {
      if (e.target === self.divider) return;
      var at = inPane(e);
      if (self.state.fit) self.zoomTo(1, at.x, at.y); else self.fit();
    });

    // Drag pans (or moves the divider when it starts on it); two fingers pinch-zoom.
    var pointers = {};
    var gesture = null;
    function start() {
      var ids = Object.keys(pointers);
      var s = self.state;
      if (ids.length === 1) {
        var p = pointers[ids[0]];
        gesture = { kind: p.onDivider ? "wipe" : "pan", x: p.x, y: p.y, cx: s.cx, cy: s.cy, scale: s.scale };
      } else if (ids.length === 2) {
        var p1 = pointers[ids[0]], p2 = pointers[ids[1]];
        var mid = inPane({ clientX: (p1.x + p2.x) / 2, clientY: (p1.y + p2.y) / 2 });
        gesture = { kind: "pinch", distance: Math.hypot(p1.x - p2.x, p1.y - p2.y) || 1, scale: s.scale, mid: mid };
      } else {
        gesture = null;
      }
    }
    stage.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY, onDivider: e.target === self.divider };
      stage.setPointerCapture(e.pointerId);
      if (self.state.fit) self.state.scale = self.fitScale();
      start();
      stage.classList.add("dragging");
    });
    stage.addEventListener("pointermove", function (e) {
      if (!pointers[e.pointerId] || !gesture) return;
      pointers[e.pointerId].x = e.clientX;
      pointers[e.pointerId].y = e.clientY;
      var s = self.state;
      if (gesture.kind === "wipe") {
        var r = stage.getBoundingClientRect();
        self.setWipe((e.clientX - r.left) / r.width);
      } else if (gesture.kind === "pan") {
        if (s.fit) return; // the whole frame is in view: nothing to pan to
        s.cx = gesture.cx - (e.clientX - gesture.x) / s.scale;
        s.cy = gesture.cy - (e.clientY - gesture.y) / s.scale;
        self.apply();
      } else if (gesture.kind === "pinch") {
        var ids = Object.keys(pointers);
        var p1 = pointers[ids[0]], p2 = pointers[ids[1]];
        var distance = Math.hypot(p1.x - p2.x, p1.y - p2.y) || 1;
        self.zoomTo(gesture.scale * (distance / gesture.distance), gesture.mid.x, gesture.mid.y);
      }
    });
    function end(e) {
      delete pointers[e.pointerId];
      start();
      if (!gesture) stage.classList.remove("dragging");
    }
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);

    this.divider.addEventListener("keydown", function (e) {
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        e.preventDefault();
        self.setWipe(self.state.wipe + (e.key === "ArrowLeft" ? -0.02 : 0.02));
      }
    });

    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var target = e.target, tag = (target.tagName || "").toLowerCase();
      if ((tag === "input" && target.type !== "range") || tag === "select" || tag === "textarea") return;
      if (target.isContentEditable) return;
      var keys = {
        "1": function () { self.setMode("wipe"); },
        "2": function () { self.setMode("side"); },
        "3": function () { self.setMode("onion"); },
        w: function () { self.nextMode(); },
        s: function () { self.swap(); },
        z: function () { self.toggle(); },
        "0": function () { self.fit(); },
        "+": function () { self.zoomIn(); },
        "=": function () { self.zoomIn(); },
        "-": function () { self.zoomOut(); },
        "[": function () { if (self.state.mode === "onion") self.setOpacity(self.state.opacity - 0.1); else self.setWipe(self.state.wipe - 0.05); },
        "]": function () { if (self.state.mode === "onion") self.setOpacity(self.state.opacity + 0.1); else self.setWipe(self.state.wipe + 0.05); },
      };
      var action = keys[e.key.toLowerCase()];
      if (action) { e.preventDefault(); action(); }
    });
    window.addEventListener("resize", function () { self.apply(); });
    // A preview swapped for the real file keeps its box; nothing to redo on load.
  };

  // The version compare's pickers: choosing a version loads that pair; a swap keeps the
  // pickers, the parameter diff's columns and the address in step without a reload.
  function bindPickers(component) {
    var form = document.getElementById("compare-form");
    if (!form) return;
    var a = form.querySelector('select[name="a"]'), b = form.querySelector('select[name="b"]');
    function go() {
      var url = new URL(window.location.href);
      url.searchParams.set("a", a.value);
      url.searchParams.set("b", b.value);
      url.searchParams.set("mode", component.state.mode);
      window.location.assign(url);
    }
    a.addEventListener("change", go);
    b.addEventListener("change", go);
    component.root.addEventListener("compare:swap", function () {
      var left = a.value;
      a.value = b.value;
      b.value = left;
      var url = new URL(window.location.href);
      url.searchParams.set("a", a.value);
      url.searchParams.set("b", b.value);
      window.history.replaceState(null, "", url);
      document.querySelectorAll("[data-diff-row]").forEach(function (row) {
        var cellA = row.querySelector('[data-side="a"]'), cellB = row.querySelector('[data-side="b"]');
        var html = cellA.innerHTML;
        cellA.innerHTML = cellB.innerHTML;
        cellB.innerHTML = html;
      });
    });
  }

  function start() {
    var root = document.querySelector("[data-compare]");
    if (!root) return;
    var component = new Compare(root);
    window.draftroomCompare = component;
    bindPickers(component);
    // Images decode after the first layout; the boxes do not depend on them, but the labels
    // and the stage can move once fonts and the bar settle.
    window.addEventListener("load", function () { component.apply(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
