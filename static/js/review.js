// Keyboard triage and decisions without a page reload. The form posts normally without JS.
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const form = document.getElementById("review-form");
  const toast = document.getElementById("toast");
  const errorBox = document.getElementById("review-error");
  const changedBox = document.getElementById("decision-changed");
  let toastTimer = null;
  let deciding = false; // own decision in flight: its answer, not the live watch, shows the result

  function say(text, kind) {
    toast.textContent = text;
    toast.className = "toast toast-" + (kind || "ok");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 2500);
  }
  function showError(text, conflict) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
    errorBox.classList.toggle("conflict", Boolean(conflict));
  }

  // The decision a refused R or X was asking for: the note takes the focus, and Ctrl+Enter
  // there makes that decision, so the keyboard never has to leave the note to finish it.
  let pending = null;

  async function decide(decision) {
    if (!form) return;
    const note = document.getElementById("review-note");
    if ((decision === "regenerate" || decision === "reject") && !note.value.trim()) {
      pending = decision;
      showError("A note is required to " + decision + ": type it, then Ctrl+Enter to " + decision + " (Esc leaves the note).");
      note.focus();
      return;
    }
    pending = null;
    showError("");
    const body = new FormData(form);
    body.set("decision", decision);
    let resp;
    let data = {};
    deciding = true;
    try {
      resp = await fetch(form.action, {
        method: "POST", body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
      });
      try { data = await resp.json(); } catch (err) { data = { error: "The server did not answer (HTTP " + resp.status + ")." }; }
    } catch (err) {
      showError("Not saved: the server could not be reached.");
      return;
    } finally {
      deciding = false;
    }
    if (resp.status === 409 && data.conflict) {
      // Decided on an out-of-date view: nothing was saved. Show the decision as it is now
      // (the note stays typed) so the person can look and decide again.
      showDecisionState(data);
      showError(data.error, true);  // beside the buttons; a toast could cover them on a phone
      return;
    }
    if (!resp.ok || !data.ok) {
      showError(data.error || "Not saved.");
      return;
    }
    // Flow: the next undecided draft (or the batch's summary) opens, unless the person chose
    // to stay on the draft after deciding. Nothing on this page is redrawn first: the work
    // would only compete with the next page's load (Back reloads this page: pageshow below).
    if (!data.stay && data.next_url) {
      say("Saved: " + data.decision_label + ". Opening the next draft…");
      window.location.assign(data.next_url);
      return;
    }
    showDecisionState(data);
    changedBox.hidden = true;
    const consensus = document.getElementById("consensus");
    if (consensus && data.consensus_html) consensus.outerHTML = data.consensus_html;
    // Regions drawn since the last review were saved with this one.
    if (window.draftRegions) window.draftRegions.submitted(data);
    note.value = "";
    // Out of the note, so the next key (N, K…) is a shortcut again, not text.
    if (document.activeElement === note) note.blur();
    say("Saved: " + data.decision_label);
  }

  // The decision block (what counts, what waits for sign-off), the history and the version
  // token the next decision posts back, all as the server has them now.
  function showDecisionState(data) {
    const now = document.getElementById("decision-now");
    if (now && data.decision_html) now.outerHTML = data.decision_html;
    if (data.history_html !== undefined) document.getElementById("review-history").innerHTML = data.history_html;
    const version = document.getElementById("decision-version");
    if (version && data.version) version.value = data.version;
  }

  // Someone else decided, signed off or changed the draft while this page was open: the live
  // watch (static/js/poll.js) swapped in the decision block and history as they are now. The
  // headline shows it at once; a note being typed stays as it is; the version token the next
  // decision posts changes only together with the notice that says what it now replaces.
  function decisionChanged(target) {
    // The same answer carries the review history: it follows at once, whoever decided.
    const history = target.querySelector("#review-history-now");
    if (history) {
      document.getElementById("review-history").replaceChildren(history.content);
      history.remove();
    }
    const block = target.querySelector("#decision-now");
    if (!block || deciding) return;
    const version = document.getElementById("decision-version");
    if (version) version.value = block.dataset.version;
    const proposed = block.querySelector("#proposed-decision");
    const what = proposed
      ? proposed.textContent.trim() + " (awaiting sign-off)"
      : (block.querySelector("#current-decision").textContent.trim() + " " +
         block.querySelector("#current-decider").textContent.trim()).trim();
    const note = document.getElementById("review-note");
    let text = "Changed while you were looking: " + what + ".";
    if (note && note.value.trim()) text += " Your note is kept; deciding now replaces that decision.";
    changedBox.textContent = text;
    changedBox.hidden = false;
  }
  const live = document.getElementById("decision-live");
  if (live) {
    window.draftroomPoll.watch({
      target: live, url: live.dataset.liveUrl, live: true, changed: decisionChanged,
    });
  }

  // Back or Forward may bring this page out of the browser's memory as it was: reload it,
  // so the decision shown is the one saved since.
  window.addEventListener("pageshow", (e) => { if (e.persisted) window.location.reload(); });

  let suggestSeq = 0;
  async function suggest() {
    if (!form) return;
    // Answers can overtake each other; only the one for the latest checklist may show.
    const seq = ++suggestSeq;
    const body = new FormData(form);
    const resp = await fetch(root.dataset.suggestUrl, {
      method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
    });
    if (!resp.ok || seq !== suggestSeq) return;
    const data = await resp.json();
    if (seq !== suggestSeq) return;
    const box = document.getElementById("suggestion");
    box.className = "suggestion suggest-" + (data.decision || "none");
    document.getElementById("suggestion-decision").textContent =
      data.decision ? data.decision[0].toUpperCase() + data.decision.slice(1) : "—";
    const list = document.getElementById("suggestion-reasons");
    list.replaceChildren(...data.reasons.map((r) => { const li = document.createElement("li"); li.textContent = r; return li; }));
  }

  if (form) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const decision = e.submitter && e.submitter.value;
      if (decision) decide(decision);
    });
    form.addEventListener("change", (e) => {
      if (e.target.type === "radio") suggest();
    });
  }

  function go(url) { if (url) window.location.assign(url); }

  document.addEventListener("keydown", (e) => {
    if (e.target.id === "review-note" && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      // Ctrl+Enter (⌘+Enter) in the note: the decision the note was asked for, else none.
      e.preventDefault();
      if (pending) decide(pending);
      else showError("Esc leaves the note; then R regenerates or X rejects with it.");
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || (tag === "input" && e.target.type !== "radio") || tag === "select") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    const viewer = window.draftViewer;
    const keys = {
      k: () => decide("keep"),
      r: () => decide("regenerate"),
      x: () => decide("reject"),
      n: () => go(root.dataset.nextUrl),
      arrowright: () => go(root.dataset.nextUrl),
      p: () => go(root.dataset.prevUrl),
      arrowleft: () => go(root.dataset.prevUrl),
      z: () => viewer && viewer.toggle(),
      "0": () => viewer && viewer.fit(),
      "+": () => viewer && viewer.zoomIn(),
      "=": () => viewer && viewer.zoomIn(),
      "-": () => viewer && viewer.zoomOut(),
    };
    const action = keys[e.key.toLowerCase()];
    if (action) { e.preventDefault(); action(); }
  });

  // Poll the preview job while it runs (static/js/poll.js), then swap in the preview.
  window.draftroomPoll.watch({
    target: document.getElementById("job-status"),
    url: root.dataset.statusUrl,
    busy: "[data-active='1']",
    settled: function () {
      const img = document.getElementById("stage-img");
      if (!window.draftViewer || !window.draftViewer.state.full) img.src = img.src.replace("/original/", "/preview/");
    },
  });
})();
