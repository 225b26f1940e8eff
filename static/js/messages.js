// Flash messages float over the page: dismiss on click; quiet ones leave by themselves.
// Errors and conflicts stay until dismissed, since they say what to do next.
(function () {
  "use strict";
  const box = document.getElementById("messages");
  if (!box) return;
  for (const item of box.querySelectorAll(".msg")) {
    const close = item.querySelector(".msg-close");
    close.hidden = false;
    close.addEventListener("click", () => item.remove());
    const sticky = item.classList.contains("msg-error") || item.classList.contains("msg-conflict");
    if (!sticky) setTimeout(() => item.remove(), 6000);
  }
})();
