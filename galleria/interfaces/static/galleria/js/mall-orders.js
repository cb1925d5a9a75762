// Online mall checkout and payment (progressive enhancement: every form works without this file).
// - choosing a way, a coupon or a payment method quotes again at once (the "Update" button, clicked for you);
// - the points slider moves the points field (and the field the slider);
// - "Place order" is pressed once (the form's key already makes a second request place nothing more);
// - the time left to pay counts down.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=checkout-form]");
  if (form) {
    var update = form.querySelector("[data-testid=checkout-update]");
    form.addEventListener("change", function (event) {
      var t = event.target;
      if (t.type === "radio" && t.name !== "method" && update) {
        update.click();
      }
    });
    var slider = form.querySelector("[data-points-slider]");
    var field = form.querySelector("[data-points-field]");
    if (slider && field && parseInt(slider.max, 10) > 0) {
      slider.hidden = false;
      slider.addEventListener("input", function () { field.value = slider.value; });
      slider.addEventListener("change", function () { if (update) update.click(); });
      field.addEventListener("input", function () { slider.value = field.value; });
    }
    form.addEventListener("submit", function (event) {
      var b = event.submitter;
      if (b && b.hasAttribute("data-once")) {
        if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
        form.setAttribute("data-sent", "1");
      }
    });
  }
  var left = document.querySelector("[data-seconds-left]");
  if (left) {
    var seconds = parseInt(left.getAttribute("data-seconds-left"), 10) || 0;
    var tick = function () {
      seconds = Math.max(0, seconds - 1);
      var m = Math.floor(seconds / 60), s = seconds % 60;
      left.textContent = (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
      if (seconds === 0) { window.clearInterval(timer); }
    };
    var timer = window.setInterval(tick, 1000);
  }
})();
