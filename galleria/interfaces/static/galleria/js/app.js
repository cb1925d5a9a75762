/* Member app: countdowns for the member code and the "send code" button; refresh the code when the app returns;
   the wallet top-up form (bonus offers, bonus preview, one submit per form). */
(function () {
  "use strict";

  function countdownText(el, seconds) {
    // The server rendered the full sentence for the first value; keep it and swap the number only.
    var template = el.getAttribute("data-template");
    if (!template) {
      template = el.textContent.replace(/\d+/, "{s}");
      el.setAttribute("data-template", template);
    }
    el.textContent = template.replace("{s}", String(seconds));
  }

  function startCodeCountdown(root) {
    var el = root.querySelector("[data-countdown]");
    if (!el) return;
    var left = parseInt(el.getAttribute("data-countdown"), 10) || 0;
    var bar = root.querySelector(".code-progress span");
    var total = bar ? parseInt(bar.getAttribute("data-total"), 10) || 60 : 60;
    var timer = window.setInterval(function () {
      if (!document.body.contains(el)) { window.clearInterval(timer); return; }
      left = Math.max(0, left - 1);
      countdownText(el, left);
      if (bar) bar.style.width = Math.round((left / total) * 100) + "%";
    }, 1000);
  }

  function startResendCountdown(root) {
    var btn = root.querySelector("button.send-code[data-resend-in]");
    if (!btn) return;
    var left = parseInt(btn.getAttribute("data-resend-in"), 10) || 0;
    if (left <= 0) return;
    var label = btn.getAttribute("data-label");
    var wait = btn.getAttribute("data-wait-label") || "%(s)s";
    btn.disabled = true;
    btn.textContent = wait.replace("%(s)s", String(left));
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        btn.disabled = false;
        btn.textContent = label;
        return;
      }
      btn.textContent = wait.replace("%(s)s", String(left));
    }, 1000);
  }

  // ---- wallet top-up: bonus offers fill the amount, a live preview of the bonus, one submit per form

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
    // The best single tier the amount meets (the server decides; this is only a preview).
    var best = null;
    offers.forEach(function (o) {
      if (fen >= o[0] && (best === null || o[1] > best[1] || (o[1] === best[1] && o[0] > best[0]))) best = o;
    });
    return best ? best[1] : 0;
  }

  function setupTopup(root) {
    var form = root.querySelector("form.topup-form");
    if (!form) return;
    var input = form.querySelector("input[name=amount]");
    var preview = form.querySelector(".bonus-preview");
    var offers = [];
    try { offers = JSON.parse(form.getAttribute("data-offers") || "[]"); } catch (e) { offers = []; }
    function update() {
      if (!preview || !input) return;
      var fen = yuanToFen(input.value);
      var bonus = fen === null ? 0 : bestBonus(fen, offers);
      preview.textContent = bonus ? preview.getAttribute("data-template").replace("%(bonus)s", formatCny(bonus)) : "";
      root.querySelectorAll(".offer[data-amount]").forEach(function (btn) {
        btn.classList.toggle("selected", fen !== null && yuanToFen(btn.getAttribute("data-amount")) === fen);
      });
    }
    root.querySelectorAll(".offer[data-amount]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        if (!input) return;
        input.value = btn.getAttribute("data-amount");
        update();
        input.focus();
      });
    });
    if (input) input.addEventListener("input", update);
    update();
  }

  function submitOnce(root) {
    // A second tap while the first request is on its way does nothing (the server is idempotent anyway).
    root.querySelectorAll("form.topup-form, form.sandbox-actions").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
        form.setAttribute("data-submitted", "1");
        var btn = form.querySelector("button[type=submit]");
        if (btn) window.setTimeout(function () { btn.disabled = true; }, 0);
      });
    });
    // Back to a page kept in the browser's cache: the form may be sent again (same key, same top-up).
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      root.querySelectorAll("form[data-submitted]").forEach(function (form) {
        form.removeAttribute("data-submitted");
        var btn = form.querySelector("button[type=submit]");
        if (btn) btn.disabled = false;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCodeCountdown(document);
    startResendCountdown(document);
    setupTopup(document);
    submitOnce(document);
    var code = document.querySelector("input[autocomplete=one-time-code]");
    if (code && document.querySelector("[data-testid=code-sent]")) code.focus();
  });

  // Every swapped-in code panel starts its own countdown.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "member-code") startCodeCountdown(elt);
  });

  /* <form data-confirm="…">: ask before submitting (cancelling an exchange, withdrawing a photo). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A phone wakes up with a stale code on screen: fetch a fresh one at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && document.getElementById("member-code") && window.htmx) {
      window.htmx.trigger(document.body, "code-refresh");
    }
  });
})();
