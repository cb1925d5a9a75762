/* Galleria console: the segment builder. Renders conditions from the schema the page embeds (#segment-schema),
   keeps the definition JSON in the form's hidden field, and asks the server for the live count as it changes
   (POST, debounced). The server validates everything again; this only helps to type it. */
(function () {
  "use strict";

  var root = document.getElementById("segment-builder");
  if (!root) { return; }
  var schema = JSON.parse(document.getElementById("segment-schema").textContent);
  var initial = JSON.parse(document.getElementById("segment-initial").textContent) || { match: "all", conditions: [] };
  var hidden = document.getElementById("segment-definition");
  var countEl = document.getElementById("segment-count");
  var shareEl = document.getElementById("segment-share");
  var errorEl = document.getElementById("segment-count-error");
  var T = schema.text;
  var fields = {};
  schema.fields.forEach(function (f) { fields[f.key] = f; });
  var DEFAULTS = {
    spend: { days: 90 }, visits: { days: 90 }, parking: { days: 30, min: 1 },
    coupon: { state: "holding" }, event: { state: "registered" }, consent: { channel: "sms", granted: true }
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function matchSelect(value) {
    var select = el("select", { "class": "seg-match", "aria-label": T.match });
    [["all", T.all], ["any", T.any]].forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (o[0] === value) { opt.selected = true; }
      select.appendChild(opt);
    });
    return select;
  }

  function fieldSelect(value) {
    var select = el("select", { "class": "seg-field", "aria-label": T.choose, "data-testid": "seg-field" });
    select.appendChild(el("option", { value: "", text: T.choose }));
    var groups = {};
    schema.fields.forEach(function (f) {
      if (!groups[f.group]) { groups[f.group] = el("optgroup", { label: f.group }); select.appendChild(groups[f.group]); }
      var opt = el("option", { value: f.key, text: f.label });
      if (f.key === value) { opt.selected = true; }
      groups[f.group].appendChild(opt);
    });
    return select;
  }

  function input(spec, cond) {
    var key = spec[0], kind = spec[1], wrap = el("label", { "class": "seg-input seg-" + kind });
    var caption = kind === "multi" || kind === "one" ? (spec[3] || "") : (spec[2] || "");
    if (caption) { wrap.appendChild(el("span", { "class": "seg-caption", text: caption })); }
    var control;
    if (kind === "number") {
      control = el("input", { type: "number", min: "0", step: "1", "data-key": key, "data-kind": kind, inputmode: "numeric" });
      if (cond[key] !== undefined && cond[key] !== null) { control.value = cond[key]; }
    } else if (kind === "money") {  /* yuan on screen, fen in the definition */
      control = el("input", { type: "number", min: "0", step: "0.01", "data-key": key, "data-kind": kind, inputmode: "decimal" });
      if (cond[key] !== undefined && cond[key] !== null) { control.value = (cond[key] / 100).toFixed(2).replace(/\.00$/, ""); }
    } else if (kind === "check") {
      control = el("input", { type: "checkbox", "data-key": key, "data-kind": kind });
      control.checked = !!cond[key];
    } else {
      var choices = schema.choices[spec[2]] || [];
      control = el("select", { "data-key": key, "data-kind": kind, "data-choices": spec[2] });
      if (kind === "multi") { control.multiple = true; control.size = Math.min(5, Math.max(2, choices.length)); }
      var chosen = [].concat(cond[key] === undefined ? [] : cond[key]).map(String);
      choices.forEach(function (c, i) {
        var opt = el("option", { value: String(i), text: c[1] });
        if (chosen.indexOf(String(c[0])) >= 0) { opt.selected = true; }
        control.appendChild(opt);
      });
    }
    wrap.appendChild(control);
    return wrap;
  }

  function conditionRow(cond) {
    var row = el("div", { "class": "seg-row", "data-testid": "seg-row" });
    var pick = fieldSelect(cond.field);
    var inputs = el("div", { "class": "seg-inputs" });
    function fill(c) {
      inputs.innerHTML = "";
      var spec = fields[c.field];
      if (!spec) { return; }
      spec.inputs.forEach(function (s) { inputs.appendChild(input(s, c)); });
    }
    pick.addEventListener("change", function () {
      var c = { field: pick.value };
      var d = DEFAULTS[pick.value] || {};
      Object.keys(d).forEach(function (k) { c[k] = d[k]; });
      fill(c);
      changed();
    });
    fill(cond);
    var remove = el("button", { type: "button", "class": "btn btn-sm btn-ghost seg-remove", text: "×", title: T.remove, "aria-label": T.remove });
    remove.addEventListener("click", function () { row.remove(); changed(); });
    row.appendChild(pick);
    row.appendChild(inputs);
    row.appendChild(remove);
    return row;
  }

  function groupBox(def, nested) {
    var box = el("div", { "class": nested ? "seg-group seg-group-nested" : "seg-group", "data-testid": nested ? "seg-group" : "seg-root" });
    var head = el("div", { "class": "seg-group-head" }, [el("span", { text: T.match }), matchSelect(def.match || "all")]);
    var list = el("div", { "class": "seg-list" });
    (def.conditions || []).forEach(function (item) {
      list.appendChild(item.conditions ? groupBox(item, true) : conditionRow(item));
    });
    var add = el("button", { type: "button", "class": "btn btn-sm", text: "+ " + T.add, "data-testid": nested ? "seg-add-inner" : "seg-add" });
    add.addEventListener("click", function () { list.appendChild(conditionRow({ field: "" })); changed(); });
    var actions = el("div", { "class": "seg-actions" }, [add]);
    if (!nested) {
      var addGroup = el("button", { type: "button", "class": "btn btn-sm btn-ghost", text: "+ " + T.add_group, "data-testid": "seg-add-group" });
      addGroup.addEventListener("click", function () {
        list.appendChild(groupBox({ match: "any", conditions: [{ field: "" }] }, true));
        changed();
      });
      actions.appendChild(addGroup);
    } else {
      var drop = el("button", { type: "button", "class": "btn btn-sm btn-ghost", text: T.remove });
      drop.addEventListener("click", function () { box.remove(); changed(); });
      actions.appendChild(drop);
    }
    box.appendChild(head);
    box.appendChild(list);
    box.appendChild(actions);
    return box;
  }

  function readRow(row) {
    var field = row.querySelector(".seg-field").value;
    if (!field) { return null; }
    var cond = { field: field };
    row.querySelectorAll("[data-key]").forEach(function (control) {
      var key = control.dataset.key, kind = control.dataset.kind;
      if (kind === "number") {
        if (control.value !== "") { cond[key] = parseInt(control.value, 10); }
      } else if (kind === "money") {
        if (control.value !== "") { cond[key] = Math.round(parseFloat(control.value) * 100); }
      } else if (kind === "check") {
        cond[key] = control.checked;
      } else {
        var choices = schema.choices[control.dataset.choices] || [];
        var values = Array.prototype.filter.call(control.options, function (o) { return o.selected; })
          .map(function (o) { return choices[parseInt(o.value, 10)][0]; });
        if (kind === "one") { if (values.length) { cond[key] = values[0]; } } else if (values.length) { cond[key] = values; }
      }
    });
    return cond;
  }

  function readGroup(box, prefix) {
    var def = { match: box.querySelector(".seg-match").value, conditions: [] };
    var i = 0;
    Array.prototype.forEach.call(box.querySelector(".seg-list").children, function (child) {
      var item = child.classList.contains("seg-group") ? readGroup(child, prefix + "conditions." + i + ".") : readRow(child);
      if (item && (!item.conditions || item.conditions.length)) {
        child.dataset.path = prefix + "conditions." + i;
        def.conditions.push(item);
        i += 1;
      } else {
        delete child.dataset.path;
      }
    });
    return def;
  }

  var timer = null, seq = 0;
  function changed() {
    var def = readGroup(root.firstChild, "");
    hidden.value = JSON.stringify(def);
    clearTimeout(timer);
    timer = setTimeout(function () { count(hidden.value); }, 300);
  }

  function mark(path) {
    root.querySelectorAll(".seg-row, .seg-group").forEach(function (r) { r.classList.remove("has-error"); });
    if (!path) { return; }
    var best = null;
    root.querySelectorAll("[data-path]").forEach(function (r) {
      var p = r.dataset.path;
      if ((path === p || path.indexOf(p + ".") === 0) && (!best || p.length > best.dataset.path.length)) { best = r; }
    });
    if (best) { best.classList.add("has-error"); }
  }

  function count(body) {
    var mine = ++seq;
    var data = new FormData();
    data.append("definition", body);
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    countEl.classList.add("is-loading");
    fetch(root.dataset.countUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (mine !== seq) { return; }
      countEl.classList.remove("is-loading");
      if (res.error) {
        countEl.textContent = "—";
        shareEl.textContent = "";
        errorEl.textContent = res.error;
        mark(res.path);
        return;
      }
      errorEl.textContent = "";
      mark("");
      countEl.textContent = res.count.toLocaleString();
      shareEl.textContent = res.total ? (Math.round(res.count * 1000 / res.total) / 10) + "%" : "";
    }).catch(function () { countEl.classList.remove("is-loading"); });
  }

  root.appendChild(groupBox(initial, false));
  root.addEventListener("change", changed);
  root.addEventListener("input", function (e) { if (e.target.type === "number") { changed(); } });
  changed();
})();
