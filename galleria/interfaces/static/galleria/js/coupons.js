/* Coupon screens: show only the fields that matter for the choices made (kind, validity, funding, claim
   method, trigger, scope). Wired from data-show-if / data-show-values; no inline handlers (CSP). */
(function () {
  "use strict";

  function valueOf(form, name) {
    var checked = form.querySelector("[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var el = form.querySelector("select[name='" + name + "'], input[name='" + name + "']:not([type=radio]):not([type=checkbox])");
    return el ? el.value : "";
  }

  function sync(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (box) {
      var wanted = (box.dataset.showValues || "").split(" ");
      var show = wanted.indexOf(valueOf(form, box.dataset.showIf)) >= 0;
      box.classList.toggle("field-group-hidden", !show);
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-coupon-form")) { sync(form); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-coupon-form]").forEach(sync);
  });
})();
