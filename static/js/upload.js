// Uploads each chosen or dropped file in its own request, two at a time, with a thumbnail, a
// progress bar and the server's per-file result linking to the draft. The form still works
// without this script.
//
// Dropping (or choosing) files starts their upload at once when the destination is known: a
// batch picked in the list, or a name typed for a new one. Dropping is then the commitment,
// and a second button press would only be a chance to forget. While the destination is still
// "A new batch…" with no name, the files wait behind one button ("Upload 5 files to a new
// batch"): an upload cannot be taken back, and a batch should not get a clock-made name nobody
// chose just because a file was dropped early.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("files-input");
  const zone = document.getElementById("dropzone");
  const hint = document.getElementById("dropzone-hint");
  const start = document.getElementById("upload-start");
  const list = document.getElementById("upload-list");
  const results = document.getElementById("upload-results");
  const summary = document.getElementById("upload-summary");
  const batchLink = document.getElementById("batch-link");
  const select = form.elements["batch"];
  const nameInput = form.elements["new_batch_name"];
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const PARALLEL = 2;
  // Every file this page has taken, in order; each is counted once, when its answer arrives.
  const pending = [];
  const totals = { added: 0, duplicate: 0, rejected: 0 };
  let active = 0;
  let starting = false;
  let batchPromise = null;
  let batchKey = null;
  let message = "";

  document.body.classList.add("js");

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function destinationKnown() {
    return Boolean(select.value || nameInput.value.trim());
  }

  function destinationName() {
    if (select.value) return "“" + select.options[select.selectedIndex].text + "”";
    const name = nameInput.value.trim();
    return name ? "a new batch “" + name + "”" : "a new batch";
  }

  function render() {
    const waiting = pending.length + active;
    const answered = totals.added + totals.duplicate + totals.rejected;
    let text = "";
    if (answered) {
      text = totals.added + " added, " + totals.duplicate + " duplicate, " +
        totals.rejected + " not accepted" + (totals.rejected ? " (see below)" : "");
    }
    if (waiting) {
      const what = active ? plural(waiting, "file") + " uploading" : plural(waiting, "file") + " waiting";
      text = text ? text + " · " + what : what;
    }
    summary.textContent = message || text;
    // Files that arrived before the destination was known wait for the button, even once a
    // name is typed: starting on the first keystroke would name the batch after one letter.
    const held = pending.length > 0 && active === 0 && !starting;
    start.hidden = !held;
    start.textContent = "Upload " + plural(pending.length, "file") + " to " + destinationName();
    if (held) hint.textContent = "They wait for the button below.";
    else if (destinationKnown()) hint.textContent = "They upload at once into " + destinationName() + ".";
    else hint.textContent = "Name the new batch or pick one above first, or drop now and press Upload.";
  }

  function row(file) {
    const li = document.createElement("li");
    li.className = "upload-item status-pending";
    // The browser's own copy of the file: instant, and nothing for the server to make.
    const thumb = document.createElement("img");
    thumb.className = "thumb";
    thumb.alt = "";
    const url = URL.createObjectURL(file);
    const revoke = () => URL.revokeObjectURL(url);
    thumb.addEventListener("load", revoke, { once: true });
    thumb.addEventListener("error", () => {
      // Not an image the browser can draw: an empty tile instead of a broken-image icon.
      revoke();
      const none = document.createElement("span");
      none.className = "thumb thumb-none";
      none.setAttribute("aria-hidden", "true");
      thumb.replaceWith(none);
    }, { once: true });
    thumb.src = url;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    const result = document.createElement("span");
    result.className = "result";
    result.textContent = "Waiting";
    li.append(thumb, name, bar, result);
    list.append(li);
    return { li, name, bar, result };
  }

  function addFiles(files) {
    if (!files.length) return;
    for (const file of files) pending.push({ file, ui: row(file) });
    // The input is only a way in: clearing it lets the same files be chosen again and keeps
    // its own "N files" label from disagreeing with the queue.
    input.value = "";
    results.hidden = false;
    message = "";
    if (destinationKnown()) pump();
    else render();
  }

  input.addEventListener("change", () => addFiles(Array.from(input.files)));
  ["dragenter", "dragover"].forEach((t) =>
    zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) =>
    zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => addFiles(Array.from(e.dataTransfer.files)));
  select.addEventListener("change", render);
  nameInput.addEventListener("input", render);

  function adopt(batch) {
    // Later rounds on this page go into the same batch.
    if (![...select.options].some((o) => o.value === String(batch.batch_id))) {
      select.add(new Option(batch.name, batch.batch_id));
    }
    select.value = String(batch.batch_id);
    nameInput.value = "";
    batchLink.href = batch.url;
    batchLink.textContent = "Open batch “" + batch.name + "”";
    batchLink.hidden = false;
  }

  function currentBatch() {
    const key = select.value || "new:" + nameInput.value.trim();
    if (!batchPromise || batchKey !== key) {
      batchKey = key;
      const body = new FormData();
      body.append("batch", select.value);
      body.append("new_batch_name", nameInput.value);
      batchPromise = fetch(form.dataset.batchUrl, {
        method: "POST", body, headers: { "X-CSRFToken": csrf, Accept: "application/json" },
        credentials: "same-origin",
      }).then((resp) => {
        if (!resp.ok) throw new Error("Could not create the batch (HTTP " + resp.status + "). Check its name and try again.");
        return resp.json();
      }).then((batch) => {
        adopt(batch);
        batchKey = String(batch.batch_id);
        return batch;
      }).catch((err) => {
        batchPromise = null;
        throw err;
      });
    }
    return batchPromise;
  }

  function finish(item, status, data, httpStatus) {
    item.ui.bar.value = 100;
    item.ui.li.className = "upload-item status-" + status;
    item.ui.result.textContent = data.message || ("Upload failed (HTTP " + httpStatus + "). Try this file again.");
    if (data.url) {
      const link = document.createElement("a");
      link.className = "name";
      link.href = data.url;
      link.textContent = item.file.name;
      item.ui.name.replaceWith(link);
    }
  }

  function send(url, item) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      item.ui.result.textContent = "Uploading";
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) item.ui.bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", () => {
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = {}; }
        const status = data.status || (xhr.status === 413 ? "rejected" : "error");
        finish(item, status, data, xhr.status);
        resolve(status);
      });
      xhr.addEventListener("error", () => {
        finish(item, "error", { message: "Network error: the file was not uploaded. Try again." }, 0);
        resolve("error");
      });
      const body = new FormData();
      body.append("file", item.file, item.file.name);
      xhr.send(body);
    });
  }

  async function pump() {
    if (!pending.length) return;
    starting = true;
    render();
    let batch;
    try { batch = await currentBatch(); } catch (err) {
      message = err.message;
      return;
    } finally {
      starting = false;
      render();
    }
    while (active < PARALLEL && pending.length) {
      const item = pending.shift();
      active += 1;
      render();
      send(batch.url + "files/", item).then((status) => {
        active -= 1;
        totals[status === "added" || status === "duplicate" ? status : "rejected"] += 1;
        render();
        pump();
      });
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!pending.length) {
      message = "Choose at least one file.";
      results.hidden = false;
      render();
      return;
    }
    message = "";
    pump();
  });

  render();
})();
