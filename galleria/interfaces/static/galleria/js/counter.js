/* Merchant counter: a submit button marked data-once sends its form once (the server makes a double tap one sale
   anyway: the form's one-time token); spare item lines stay folded until "Add an item" is used. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!submitter || !submitter.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    submitter.classList.add("is-busy");
    submitter.setAttribute("aria-busy", "true");
  });

  var table = document.querySelector(".counter-lines");
  if (!table) return;
  var spares = table.querySelectorAll("tr.counter-line-spare");
  if (!spares.length) return;
  var label = table.getAttribute("data-add-label") || "+";
  var add = document.createElement("button");
  add.type = "button";
  add.className = "btn btn-sm counter-add-line";
  add.textContent = label;
  add.setAttribute("data-testid", "counter-add-line");
  table.classList.add("counter-lines-folded");
  add.addEventListener("click", function () {
    var next = table.querySelector("tr.counter-line-spare");
    if (next) { next.classList.remove("counter-line-spare"); var input = next.querySelector("input"); if (input) input.focus(); }
    if (!table.querySelector("tr.counter-line-spare")) add.remove();
  });
  table.insertAdjacentElement("afterend", add);
})();
