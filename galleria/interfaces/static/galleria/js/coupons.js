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

  /* Merchant checklists (galleria/coupons/_merchant_checklist.html): a filter box over ~90 checkboxes, the
     number ticked, "ticked only", and the ticked ones listed first. The filter's own events stop here so they
     neither post the live preview nor count as a change of the form. */
  function filterChecklist(box) {
    var query = box.querySelector("[data-checklist-filter]").value.trim().toLowerCase();
    var only = box.querySelector("[data-checklist-only]").checked;
    var shown = 0;
    box.querySelectorAll("[data-checklist-option]").forEach(function (row) {
      var input = row.querySelector("input");
      var match = (!query || row.textContent.toLowerCase().indexOf(query) >= 0) && (!only || input.checked);
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    box.querySelector("[data-checklist-empty]").hidden = shown > 0;
  }

  function countChecklist(box) {
    box.querySelector("[data-checklist-count]").textContent =
      box.querySelectorAll("[data-checklist-option] input:checked").length;
  }

  function setUpChecklist(box) {
    var list = box.querySelector(".checklist-options");
    var rows = Array.prototype.slice.call(list.querySelectorAll("[data-checklist-option]"));
    rows.filter(function (row) { return row.querySelector("input").checked; }).reverse().forEach(function (row) {
      list.insertBefore(row, list.firstChild);
    });
    box.querySelector("[data-checklist-bar]").hidden = false;
    countChecklist(box);
    ["input", "change", "keydown"].forEach(function (type) {
      box.querySelectorAll("[data-checklist-filter], [data-checklist-only]").forEach(function (el) {
        el.addEventListener(type, function (event) {
          if (type === "keydown") {
            if (event.key === "Enter") { event.preventDefault(); }  // never submits the form
            return;
          }
          event.stopPropagation();
          filterChecklist(box);
        });
      });
    });
    list.addEventListener("change", function () { countChecklist(box); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-coupon-form]").forEach(sync);
    document.querySelectorAll("[data-checklist]").forEach(setUpChecklist);
  });
})();
