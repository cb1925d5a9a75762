// Receipt-photo points. Member app: a chosen photo uploads at once. Console review: keyboard shortcuts
// A approve, R reject (focuses the reason), J / K next / previous receipt in the queue.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    var form = input.closest("form[data-auto-submit]");
    if (form && input.files && input.files.length) {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = button.dataset.busy || button.textContent; }
      form.submit();
    }
  });
  document.addEventListener("keydown", function (event) {
    var review = document.querySelector("[data-receipt-keys]");
    if (!review || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    var key = event.key.toLowerCase();
    var click = function (selector) {
      var el = document.querySelector(selector);
      if (el) { event.preventDefault(); el.click(); }
    };
    if (key === "a") click("[data-key-approve]");
    else if (key === "r") {
      var reason = document.querySelector("[data-key-reason]");
      if (reason) { event.preventDefault(); reason.focus(); }
    } else if (key === "j") click("[data-key-next]");
    else if (key === "k") click("[data-key-prev]");
  });
})();
