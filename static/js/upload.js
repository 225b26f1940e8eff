// Uploads each chosen or dropped file in its own request, two at a time, with a progress bar
// and the server's per-file result. The form still works without this script.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("files-input");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const results = document.getElementById("upload-results");
  const summary = document.getElementById("upload-summary");
  const batchLink = document.getElementById("batch-link");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const PARALLEL = 2;
  let queued = [];

  document.body.classList.add("js");

  function row(file) {
    const li = document.createElement("li");
    li.className = "upload-item status-pending";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const result = document.createElement("span");
    result.className = "result";
    result.textContent = "Waiting";
    li.append(name, bar, result);
    list.append(li);
    return { li, bar, result };
  }

  function addFiles(files) {
    for (const file of files) queued.push({ file, ui: row(file) });
    results.hidden = false;
    summary.textContent = queued.length + " file(s) chosen";
  }

  input.addEventListener("change", () => addFiles(input.files));
  ["dragenter", "dragover"].forEach((t) =>
    zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) =>
    zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => addFiles(e.dataTransfer.files));

  async function ensureBatch() {
    const body = new FormData();
    body.append("batch", form.elements["batch"].value);
    body.append("new_batch_name", form.elements["new_batch_name"].value);
    const resp = await fetch(form.dataset.batchUrl, {
      method: "POST", body, headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!resp.ok) throw new Error("Could not create the batch (" + resp.status + ")");
    return resp.json();
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
        item.ui.bar.value = 100;
        item.ui.li.className = "upload-item status-" + status;
        item.ui.result.textContent = data.message || ("Upload failed (HTTP " + xhr.status + ")");
        resolve(status);
      });
      xhr.addEventListener("error", () => {
        item.ui.li.className = "upload-item status-error";
        item.ui.result.textContent = "Network error: the file was not uploaded. Try again.";
        resolve("error");
      });
      const body = new FormData();
      body.append("file", item.file, item.file.name);
      xhr.send(body);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!queued.length) { summary.textContent = "Choose at least one file."; results.hidden = false; return; }
    const start = document.getElementById("upload-start");
    start.disabled = true;
    let batch;
    try { batch = await ensureBatch(); } catch (err) {
      summary.textContent = err.message; start.disabled = false; return;
    }
    const url = batch.url + "files/";
    const work = queued;
    queued = [];
    const counts = { added: 0, duplicate: 0, rejected: 0, error: 0 };
    let next = 0;
    async function worker() {
      while (next < work.length) {
        const item = work[next++];
        const status = await send(url, item);
        counts[status] = (counts[status] || 0) + 1;
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    summary.textContent = counts.added + " added, " + counts.duplicate + " duplicate, " +
      (counts.rejected + counts.error) + " not accepted";
    batchLink.href = batch.url;
    batchLink.textContent = "Open batch “" + batch.name + "”";
    batchLink.hidden = false;
    // Later uploads on this page go into the same batch.
    const select = form.elements["batch"];
    if (![...select.options].some((o) => o.value === String(batch.batch_id))) {
      select.add(new Option(batch.name, batch.batch_id));
    }
    select.value = String(batch.batch_id);
    start.disabled = false;
  });
})();
