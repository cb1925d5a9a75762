/* Galleria console, loyalty screens: basket lines of the earn preview, the earn rule's target picker, fields that
   only matter for one choice (merchant share for split funding, days for "N days after earning"), and the mall
   group picker of platform admins. Wired from data-* attributes; works after htmx swaps (delegated events). */
(function () {
  "use strict";

  function closestForm(el) { return el && el.closest ? el.closest("form") : null; }

  function field(form, name) { return form.querySelector("[data-field=" + name + "]"); }

  function value(form, name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.value : "";
  }

  /* Earn rule: show the picker of the chosen scope only (mall / merchant category / merchant). */
  function syncScope(form) {
    if (form.dataset.scopeForm === undefined) { return; }
    var scope = value(form, "scope");
    ["mall", "category", "merchant"].forEach(function (name) {
      var el = field(form, name);
      if (el) { el.hidden = scope !== name; }
    });
  }

  /* Policy and rule forms: the merchant share is for split funding; expiry days for "N days after earning". */
  function syncPolicy(form) {
    if (form.dataset.policyForm === undefined) { return; }
    var share = field(form, "merchant_share_bp");
    if (share && form.querySelector("[name=funder]")) {
      var split = value(form, "funder") === "split";
      share.hidden = !split && !share.classList.contains("has-error");
    }
    var days = field(form, "expiry_days");
    if (days && form.querySelector("[name=expiry_policy]")) {
      days.hidden = value(form, "expiry_policy") !== "days_after_earn" && !days.classList.contains("has-error");
    }
  }

  function syncAll(root) {
    root.querySelectorAll("form[data-scope-form]").forEach(syncScope);
    root.querySelectorAll("form[data-policy-form]").forEach(syncPolicy);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = closestForm(target);
    if (!form) { return; }
    if (target.name === "scope") { syncScope(form); }
    if (target.name === "funder" || target.name === "expiry_policy") { syncPolicy(form); }
    if (form.dataset.autosubmit !== undefined && target.tagName === "SELECT") { form.submit(); }
  });

  /* Earn preview basket: add a line from the <template>, remove a line (one always stays). */
  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("[data-add-line]") : null;
    if (add) {
      var form = closestForm(add);
      var body = form && form.querySelector("[data-basket]");
      var template = form && form.querySelector("#basket-row-template");
      if (body && template) {
        var row = template.content.firstElementChild.cloneNode(true);
        body.appendChild(row);
        var first = row.querySelector("input");
        if (first) { first.focus(); }
      }
      return;
    }
    var remove = event.target.closest ? event.target.closest("[data-remove-line]") : null;
    if (remove) {
      var tr = remove.closest("tr");
      var tbody = tr && tr.parentElement;
      if (!tbody) { return; }
      if (tbody.children.length > 1) {
        tbody.removeChild(tr);
      } else {
        tr.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () { syncAll(document); });
  document.body.addEventListener("htmx:afterSwap", function (event) { syncAll(event.target); });
})();
