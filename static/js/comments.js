// Comments on the draft page: pin a new thread to a region drawn on the image (through
// window.draftRegions, static/js/regions.js, the one owner of drawing boxes) and show a
// thread's pin. Threads, replies and resolve/reopen are plain forms.
(function () {
  "use strict";
  const form = document.getElementById("comment-form");
  if (!form) return;
  const pinButton = document.getElementById("comment-pin");
  const state = document.getElementById("comment-pin-state");
  const fields = ["x", "y", "w", "h"].map((k) => form.elements.namedItem(k));

  function setBox(box) {
    fields.forEach((el) => { el.value = box ? String(box[el.name]) : ""; });
    state.textContent = box ? "Pinned to a region." : "";
    pinButton.textContent = box ? "Clear the pin" : "Pin to a region";
    pinButton.setAttribute("aria-pressed", "false");
  }

  pinButton.addEventListener("click", () => {
    if (!window.draftRegions) return;
    if (fields[0].value) { setBox(null); return; }
    if (pinButton.getAttribute("aria-pressed") === "true") {
      window.draftRegions.cancelPick();
      pinButton.setAttribute("aria-pressed", "false");
      state.textContent = "";
      return;
    }
    pinButton.setAttribute("aria-pressed", "true");
    state.textContent = "Drag a rectangle on the image.";
    window.draftRegions.pickBox((box) => {
      setBox(box);
      document.getElementById("comment-body").focus();
    });
  });

  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-show-pin]");
    if (!button || !window.draftRegions) return;
    const thread = document.getElementById("comment-" + button.dataset.showPin);
    const d = thread.dataset;
    window.draftRegions.flash({ x: +d.x, y: +d.y, w: +d.w, h: +d.h }, "comment");
    const stage = document.getElementById("stage");
    if (stage) stage.scrollIntoView({ block: "nearest" });
  });
})();
