/* Merchant portal: keep the lookup input ready for the next scan (scanners type the code and press Enter). */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "lookup-result") return;
    var input = document.querySelector("#lookup-form input[name=q]");
    if (input) { input.focus(); input.select(); }
  });
})();
