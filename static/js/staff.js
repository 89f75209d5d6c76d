// Instructor and TA pages: drag-and-drop reordering of a lecture's readings.
// An enhancement only: the Up and Down buttons do the same without JavaScript.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("ol.staff-readings[data-reorder-url]").forEach(enableDragging);
});

function enableDragging(list) {
  const items = () => Array.from(list.querySelectorAll(":scope > li[data-reading-id]"));
  const orderOf = () => items().map((item) => item.dataset.readingId).join(",");
  if (items().length < 2) return;
  const status = list.parentElement.querySelector(".reorder-status");
  let dragged = null;
  let before = "";

  items().forEach((item) => {
    item.draggable = true;
    const handle = item.querySelector(".drag-handle");
    if (handle) handle.hidden = false;
    item.addEventListener("dragstart", (event) => {
      dragged = item;
      before = orderOf();
      item.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.readingId);
    });
    item.addEventListener("dragover", (event) => {
      // Required readings always come before optional ones: drag within a kind.
      if (!dragged || dragged === item || dragged.dataset.required !== item.dataset.required) {
        return;
      }
      event.preventDefault();
      const box = item.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? item.nextSibling : item);
    });
    item.addEventListener("drop", (event) => event.preventDefault());
    item.addEventListener("dragend", () => {
      item.classList.remove("is-dragging");
      dragged = null;
      if (orderOf() !== before) save(list, status, orderOf());
    });
  });
}

async function save(list, status, order) {
  const token = document.querySelector("meta[name=csrf-token]");
  if (status) status.textContent = "Saving the new order…";
  try {
    const response = await fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.content : "", "X-Requested-With": "fetch" },
      body: new URLSearchParams({ order }),
    });
    if (!response.ok) throw new Error(await response.text());
    if (status) status.textContent = "New order saved.";
  } catch (error) {
    if (status) status.textContent = `The order was not saved: ${error.message}`;
  }
  // Reload so that the Up/Down buttons match what the server has.
  window.location.reload();
}
