/* Member app: countdowns for the member code and the "send code" button; refresh the code when the app returns. */
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

  document.addEventListener("DOMContentLoaded", function () {
    startCodeCountdown(document);
    startResendCountdown(document);
    var code = document.querySelector("input[autocomplete=one-time-code]");
    if (code && document.querySelector("[data-testid=code-sent]")) code.focus();
  });

  // Every swapped-in code panel starts its own countdown.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "member-code") startCodeCountdown(elt);
  });

  // A phone wakes up with a stale code on screen: fetch a fresh one at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && document.getElementById("member-code") && window.htmx) {
      window.htmx.trigger(document.body, "code-refresh");
    }
  });
})();
