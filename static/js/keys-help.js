// The "?" sheet of the page's keyboard shortcuts (templates/core/partials/keys_help.html).
// "?" outside a text field, or any [data-keys-open] button, opens it as a modal dialog; Esc,
// the close button, a click beside it or "?" again close it, and the focus goes back to where
// it was. Buttons are found by delegation: a poller may swap the part of the page that holds one.
(function () {
  "use strict";
  const dialog = document.getElementById("keys-help");
  if (!dialog) return;
  let opener = null;

  // Fields where "?" is text. Boxes, radios, sliders and buttons take no text, so "?" there
  // opens the sheet as anywhere else on the page.
  const NOT_TEXT = ["checkbox", "radio", "range", "button", "submit", "reset", "file", "color", "image"];
  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    const tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    return tag === "input" && !NOT_TEXT.includes(el.type);
  }

  function open(from) {
    if (dialog.open) return;
    opener = from || document.activeElement;
    dialog.showModal(); // moves the focus to the close button, the sheet's first control
  }
  function close() { if (dialog.open) dialog.close(); }

  dialog.addEventListener("close", () => {
    const back = opener;
    opener = null;
    if (back && back !== document.body && back.isConnected && back.focus) back.focus();
  });
  dialog.querySelector("[data-keys-close]").addEventListener("click", close);
  // The dialog's own box has no padding: a click whose target is the dialog fell on the backdrop.
  dialog.addEventListener("click", (e) => { if (e.target === dialog) close(); });

  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-keys-open]");
    if (button) { e.preventDefault(); open(button); }
  });

  // While the sheet is open the page's own keys (K keeps, Enter signs off…) must not act
  // behind it: stopped here, in the capture phase, before the page's listeners on document.
  // Default actions still happen: Esc closes the dialog, Tab moves, Enter presses Close.
  window.addEventListener("keydown", (e) => {
    if (!dialog.open) return;
    e.stopPropagation();
    if (e.key === "?") { e.preventDefault(); close(); }
  }, true);

  document.addEventListener("keydown", (e) => {
    if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (typing(e.target)) return;
    e.preventDefault();
    open(null);
  });
})();
