/* Merchant portal: keep the lookup input ready for the next scan (scanners type the code and press Enter). */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "lookup-result") return;
    var input = document.querySelector("#lookup-form input[name=q]");
    if (input) { input.focus(); input.select(); }
  });
})();

/* Payments: <form data-confirm="…"> asks before submitting (a refund); [data-print] prints the QR cards. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();

/* On a phone the menu is one sideways-scrolling row: bring the current page's entry into view. */
(function () {
  "use strict";
  var active = document.querySelector(".portal .sidebar .nav a.active");
  if (active && window.matchMedia("(max-width: 600px)").matches) {
    active.parentNode.scrollLeft = active.offsetLeft - 16;
  }
})();
