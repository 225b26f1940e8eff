// The sign-off queue by keyboard: J/K move, S signs off the current row, Space selects it,
// A selects all, Enter signs off the selected. The form works without this script.
//
// Live (issue 13): the rows are watched by the one poller (static/js/poll.js live mode), so a
// decision someone else signed off or decided again leaves the queue and a new one waiting
// appears, without a reload. The swap replaces the rows, so what the person did here is kept
// in this script, not in the DOM: the ticked rows and the row the keyboard is on come back
// after each swap. A tick is kept only while its row still shows what was ticked: a row whose
// decision changed meanwhile comes back unticked, and the notice says so.
(function () {
  "use strict";
  const live = document.getElementById("sign-off-live");
  if (!live) return;
  const crumbCount = document.getElementById("sign-off-crumb-count");
  const picked = new Map(); // draft id -> the version token of the row when it was ticked
  let at = 0;
  let currentId = null;
  let shown = snapshot();

  function rows() { return Array.from(live.querySelectorAll(".sign-off-row")); }
  function box(row) { return row.querySelector("input[type=checkbox]"); }
  function token(row) {
    const input = row.querySelector('input[name="version-' + row.dataset.draft + '"]');
    return input ? input.value : "";
  }
  function name(row) { return row.querySelector(".sign-off-what a").textContent.trim(); }
  function snapshot() {
    const now = new Map();
    rows().forEach((row) => now.set(row.dataset.draft, name(row)));
    return now;
  }

  function pick(row, on) {
    box(row).checked = on;
    if (on) picked.set(row.dataset.draft, token(row)); else picked.delete(row.dataset.draft);
  }

  function show(i, scroll) {
    const all = rows();
    if (!all.length) { currentId = null; return; }
    at = Math.max(0, Math.min(all.length - 1, i));
    currentId = all[at].dataset.draft;
    all.forEach((r, n) => r.classList.toggle("current", n === at));
    if (scroll) all[at].scrollIntoView({ block: "nearest" });
  }

  // A box ticked before this script ran (the browser restores form state on reload) counts too.
  rows().forEach((row) => { if (box(row).checked) pick(row, true); });
  show(0, true);

  live.addEventListener("change", (e) => {
    const row = e.target.closest(".sign-off-row");
    if (row && e.target === box(row)) pick(row, e.target.checked);
  });

  // A short note over the page (the flash messages' overlay): it never moves the rows.
  function notify(text) {
    let list = document.getElementById("messages");
    if (!list) {
      list = document.createElement("ul");
      list.id = "messages";
      list.className = "messages";
      list.setAttribute("role", "status");
      list.setAttribute("aria-live", "polite");
      document.body.appendChild(list);
    }
    const item = document.createElement("li");
    item.className = "msg msg-info sign-off-changed";
    item.textContent = text;
    list.appendChild(item);
    window.setTimeout(() => item.remove(), 6000);
  }

  function quoted(names) { return names.map((n) => "“" + n + "”").join(", "); }

  function swapped() {
    const all = rows();
    const now = snapshot();
    const gone = [];
    shown.forEach((label, id) => { if (!now.has(id)) gone.push(label); });
    const changed = [];
    all.forEach((row) => {
      const id = row.dataset.draft;
      const keep = picked.has(id) && picked.get(id) === token(row);
      if (picked.has(id) && !keep) changed.push(name(row));
      pick(row, keep);
    });
    picked.forEach((_, id) => { if (!now.has(id)) picked.delete(id); });
    // The keyboard stays on its row; when that row left, on the one that took its place.
    const again = all.findIndex((row) => row.dataset.draft === currentId);
    show(again >= 0 ? again : at, false);
    if (crumbCount) crumbCount.textContent = String(all.length);
    if (gone.length) notify("Signed off or decided again by someone else: " + quoted(gone) + ".");
    if (changed.length) notify("Changed meanwhile, so no longer selected: " + quoted(changed) + ".");
    shown = now;
  }

  window.draftroomPoll.watch({
    target: live, url: live.dataset.liveUrl, live: true, changed: swapped,
  });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || (tag === "input" && e.target.type !== "checkbox")) return;
    const form = document.getElementById("sign-off-queue");
    const all = rows();
    const row = all[at];
    if (!form || !row) return;
    const keys = {
      j: () => show(at + 1, true),
      k: () => show(at - 1, true),
      s: () => form.requestSubmit(row.querySelector(".sign-off-one")),
      " ": () => pick(row, !box(row).checked),
      a: () => all.forEach((r) => pick(r, true)),
      enter: () => form.requestSubmit(document.getElementById("sign-off-selected")),
    };
    const action = keys[e.key.toLowerCase()];
    if (action) { e.preventDefault(); action(); }
  });
})();
