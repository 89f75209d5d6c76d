// Review form: completeness meter and word count as you type. The server computes
// the same figures on every save, so the form works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector(".js-review-form");
  const meter = document.querySelector(".js-complete-meter");
  if (!form || !meter) return;
  const countLabel = document.querySelector(".js-complete-count");
  const wordLabel = document.querySelector(".js-word-count");

  const update = () => {
    let complete = 0;
    let words = 0;
    form.querySelectorAll("textarea.review-answer").forEach((area) => {
      const text = area.value.trim();
      if (text) complete += 1;
      words += (text.match(/[\p{L}\p{N}_]+/gu) || []).length;
    });
    form.querySelectorAll("fieldset.rating-group").forEach((group) => {
      if (group.querySelector("input:checked")) complete += 1;
    });
    meter.value = complete;
    meter.textContent = `${complete} of ${meter.max}`;
    if (countLabel) countLabel.textContent = complete;
    if (wordLabel) wordLabel.textContent = words;
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
});
