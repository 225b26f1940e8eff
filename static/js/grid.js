// Batch grid: while previews are being made, refresh the grid fragment (static/js/poll.js);
// and, live, when someone else decides in the batch, show their decisions on the cards and in
// the filter counts without a reload.
// Bulk decide: the tiles' checkboxes belong to #bulk-form, which posts without this script;
// here the bar shows only while something is selected, says how many, and keeps the
// selection when the poller swaps the grid. Keys as on the sign-off queue: X selects the
// focused draft; Shift-click selects a range.
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) return;
  // The filter links sit outside the fragment; the fragment carries the counts.
  function showCounts(target) {
    target.querySelectorAll(".grid-counts [data-count]").forEach(function (count) {
      const shown = document.querySelector(".filters .filter-" + count.dataset.count + " .n");
      if (shown) shown.textContent = count.textContent;
    });
  }
  window.draftroomPoll.watch({
    target: grid,
    url: grid.dataset.fragmentUrl,
    busy: ".grid[data-processing]:not([data-processing=''])",
    // Only a batch grid carries a version to ask about; a search grid is not watched live.
    live: grid.querySelector(".grid[data-version]") !== null,
    changed: showCounts,
  });

  const form = document.getElementById("bulk-form");
  if (!form) return;
  const bar = document.getElementById("bulk-bar");
  const count = document.getElementById("bulk-count");
  const all = document.getElementById("bulk-all");
  const allBox = document.getElementById("bulk-all-box");
  const picked = new Set();
  let last = null;

  function boxes() { return Array.from(grid.querySelectorAll(".tile-pick input[type=checkbox]")); }

  function show() {
    const list = boxes();
    list.forEach((box) => {
      box.checked = picked.has(box.value);
      box.closest(".tile").classList.toggle("selected", box.checked);
    });
    bar.hidden = picked.size === 0;
    count.textContent = picked.size + " selected:";
    all.hidden = list.length === 0;
    allBox.checked = list.length > 0 && list.every((box) => box.checked);
  }

  function set(box, on) { if (on) picked.add(box.value); else picked.delete(box.value); }

  // A refused post (a missing note, say) comes back to this grid with an error: the same
  // drafts are selected again and the note is back, so nothing has to be picked twice.
  const kept = "draftroom-bulk:" + form.action;
  const note = form.elements.namedItem("note"); // in the bar, joined by form="bulk-form"
  const before = JSON.parse(sessionStorage.getItem(kept) || "null");
  sessionStorage.removeItem(kept);
  if (before && document.querySelector("#messages .msg-error")) {
    before.ids.forEach((id) => picked.add(id));
    note.value = before.note;
  }
  form.addEventListener("submit", () => {
    sessionStorage.setItem(kept, JSON.stringify({ ids: Array.from(picked), note: note.value }));
  });
  // Enter in the note would press the form's first button (Keep): the person picks the button.
  note.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });

  all.hidden = false;
  document.querySelector(".bulk-keys").hidden = false;
  show();

  grid.addEventListener("click", (e) => {
    const box = e.target.closest(".tile-pick input[type=checkbox]");
    if (!box) return;
    const list = boxes();
    if (e.shiftKey && last && list.includes(last)) {
      const [a, b] = [list.indexOf(last), list.indexOf(box)].sort((x, y) => x - y);
      list.slice(a, b + 1).forEach((other) => set(other, box.checked));
    } else {
      set(box, box.checked);
    }
    last = box;
    show();
  });

  allBox.addEventListener("change", () => {
    boxes().forEach((box) => set(box, allBox.checked));
    show();
  });

  // Clear is a reset button: the browser unticks the boxes, then the count follows.
  form.addEventListener("reset", () => { picked.clear(); last = null; setTimeout(show); });

  // The poller swaps the grid's content: tick the same drafts in the fresh tiles.
  new MutationObserver(show).observe(grid, { childList: true });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== "x") return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || (tag === "input" && e.target.type !== "checkbox")) return;
    const tile = e.target.closest && e.target.closest(".tile");
    const box = tile && tile.querySelector(".tile-pick input[type=checkbox]");
    if (!box) return;
    e.preventDefault();
    set(box, !picked.has(box.value));
    last = box;
    show();
  });
})();
