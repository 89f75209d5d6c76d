// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: hidden until JavaScript can make them work.
  document.querySelectorAll(".js-copy").forEach((button) => {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copyTarget);
      const status = button.parentElement.querySelector(".copy-status");
      try {
        await navigator.clipboard.writeText(target.value ?? target.textContent);
        if (status) status.textContent = "Copied to the clipboard.";
      } catch (error) {
        target.select();
        if (status) status.textContent = "Select all and copy with Ctrl+C.";
      }
    });
  });
});

// htmx sends the CSRF token with every request it makes.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("meta[name=csrf-token]");
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});
