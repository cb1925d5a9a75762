/* Console cash top-up (console/wallet/cash_topup.html): a bonus offer fills the amount; while the agent types, the
   "What the member gets" card shows the bonus, the total and whether a second approval is needed. Only a preview:
   the server decides (its "Preview" button shows the same card from the rule itself). One submit per form. */
(function () {
  "use strict";

  function yuanToFen(text) {
    // Exact, no floats: "1,000.5" → 100050; anything else → null.
    var clean = String(text || "").replace(/[\s,¥￥]/g, "");
    var match = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(clean);
    if (!match) return null;
    var fen = (match[2] || "").concat("00").slice(0, 2);
    return parseInt(match[1], 10) * 100 + parseInt(fen, 10);
  }

  function formatCny(fen) {
    var whole = String(Math.floor(fen / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var part = String(fen % 100);
    return "¥" + whole + "." + (part.length < 2 ? "0" + part : part);
  }

  function bestBonus(fen, offers) {
    // The best single tier the amount meets (wallet/rules.py bonus_for: largest bonus, then the higher minimum).
    var best = null;
    offers.forEach(function (o) {
      if (fen >= o[0] && (best === null || o[1] > best[1] || (o[1] === best[1] && o[0] > best[0]))) best = o;
    });
    return best ? best[1] : 0;
  }

  function setup(form) {
    var input = form.querySelector("[data-cash-amount]");
    var card = document.querySelector("[data-cash-preview]");
    if (!input || !card) return;
    var offers = [];
    try { offers = JSON.parse(form.getAttribute("data-offers") || "[]"); } catch (e) { offers = []; }
    var threshold = parseInt(form.getAttribute("data-threshold") || "0", 10);
    function part(name) { return card.querySelector("[data-preview=" + name + "]"); }

    function update() {
      var fen = yuanToFen(input.value);
      var ok = fen !== null && fen > 0;
      var bonus = ok ? bestBonus(fen, offers) : 0;
      var wait = ok && fen > threshold;
      part("amount").textContent = ok ? formatCny(fen) : "—";
      part("bonus").textContent = ok ? formatCny(bonus) : "—";
      part("total").textContent = ok ? formatCny(fen + bonus) : "—";
      part("approval").hidden = !wait;
      part("wait").hidden = !wait;
      part("now").hidden = !ok || wait;
      part("hint").hidden = ok;
      form.querySelectorAll(".offer[data-amount]").forEach(function (btn) {
        btn.classList.toggle("selected", ok && yuanToFen(btn.getAttribute("data-amount")) === fen);
      });
    }

    form.querySelectorAll(".offer[data-amount]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        input.value = btn.getAttribute("data-amount");
        update();
        input.focus();
      });
    });
    input.addEventListener("input", update);
    if (input.value) update();

    form.addEventListener("submit", function (event) {
      // a second click while the first request is on its way does nothing (the server is idempotent anyway)
      if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
      form.setAttribute("data-submitted", "1");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.cash-topup-form").forEach(setup);
  });
})();
