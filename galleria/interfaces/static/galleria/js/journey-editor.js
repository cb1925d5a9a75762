/* Galleria console: the journey step editor. Renders the steps (a list; a branch holds a "yes" and a "no" list)
   from the draft the page embeds (#journey-initial), keeps the draft JSON in the form's hidden field, and shows the
   server's errors next to the step they name (#journey-errors). The server validates everything again. */
(function () {
  "use strict";

  var root = document.getElementById("journey-editor");
  if (!root) { return; }
  var schema = JSON.parse(document.getElementById("journey-schema").textContent);
  var draft = JSON.parse(document.getElementById("journey-initial").textContent) || {};
  var errors = JSON.parse(document.getElementById("journey-errors").textContent) || {};
  var hidden = document.getElementById("journey-draft");
  var T = schema.text;
  var kindLabel = {};
  schema.kinds.forEach(function (k) { kindLabel[k.key] = k.label; });
  var steps = Array.isArray(draft.steps) ? draft.steps : [];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function newId() {
    var used = {};
    (function walk(list) {
      list.forEach(function (s) { used[s.id] = true; if (s.kind === "branch") { walk(s.yes || []); walk(s.no || []); } });
    })(steps);
    var n = 1;
    while (used["s" + n]) { n += 1; }
    return "s" + n;
  }

  function count(list) {
    return list.reduce(function (n, s) {
      return n + 1 + (s.kind === "branch" ? count(s.yes || []) + count(s.no || []) : 0);
    }, 0);
  }

  function blank(kind) {
    var s = { id: newId(), kind: kind };
    if (kind === "wait") { s.minutes = 1440; }
    if (kind === "message") { s.inbox = true; s.sms = false; s.email = false; s.wechat = false; s.push = false; s.title = ""; s.body = ""; s.sms_text = ""; }
    if (kind === "coupon") { s.template_id = schema.coupons.length ? schema.coupons[0].id : null; }
    if (kind === "points") { s.points = 100; }
    if (kind === "tag") { s.tag_id = schema.tags.length ? schema.tags[0].id : null; }
    if (kind === "branch") { s.test = "purchased"; s.percent = 50; s.segment_id = null; s.yes = []; s.no = []; }
    return s;
  }

  function sync() { hidden.value = JSON.stringify({ steps: steps }); }

  function changed() { sync(); render(); }

  function field(label, control, cls) {
    return el("label", { "class": cls || "" }, [el("span", { text: label }), control]);
  }

  function textInput(step, key, attrs) {
    var input = el("input", Object.assign({ type: "text", value: step[key] == null ? "" : String(step[key]) }, attrs || {}));
    input.addEventListener("input", function () { step[key] = input.value; sync(); });
    return input;
  }

  function numberInput(value, attrs, onChange) {
    var input = el("input", Object.assign({ type: "number", value: String(value) }, attrs || {}));
    input.addEventListener("input", function () { onChange(parseInt(input.value, 10) || 0); sync(); });
    return input;
  }

  function pick(options, value, onChange, testid) {
    var select = el("select", testid ? { "data-testid": testid } : {});
    select.appendChild(el("option", { value: "", text: T.choose }));
    options.forEach(function (o) {
      var opt = el("option", { value: String(o.id), text: o.name });
      if (String(o.id) === String(value)) { opt.selected = true; }
      select.appendChild(opt);
    });
    select.addEventListener("change", function () { onChange(select.value ? parseInt(select.value, 10) : null); sync(); });
    return select;
  }

  function check(step, key, label) {
    var box = el("input", { type: "checkbox", "data-testid": "jed-" + key });
    box.checked = !!step[key];
    box.addEventListener("change", function () { step[key] = box.checked; changed(); });
    return el("label", { "class": "jed-check" }, [box, el("span", { text: label })]);
  }

  function waitFields(step) {
    var minutes = step.minutes || 0, unit = "minutes", amount = minutes;
    if (minutes && minutes % 1440 === 0) { unit = "days"; amount = minutes / 1440; }
    else if (minutes && minutes % 60 === 0) { unit = "hours"; amount = minutes / 60; }
    var factor = { minutes: 1, hours: 60, days: 1440 };
    var units = el("select", { "data-testid": "jed-wait-unit" });
    ["minutes", "hours", "days"].forEach(function (u) {
      var opt = el("option", { value: u, text: T[u] });
      if (u === unit) { opt.selected = true; }
      units.appendChild(opt);
    });
    var number = numberInput(amount, { min: "1", "data-testid": "jed-wait" }, function (v) {
      step.minutes = v * factor[units.value];
    });
    units.addEventListener("change", function () {
      step.minutes = (parseInt(number.value, 10) || 0) * factor[units.value]; sync();
    });
    return [field(T.wait_for, number), field(" ", units)];
  }

  function messageFields(step) {
    var out = [check(step, "inbox", T.inbox), check(step, "sms", T.sms), check(step, "email", T.email),
      check(step, "wechat", T.wechat), check(step, "push", T.push),
      field(T.title, textInput(step, "title", { maxlength: "60", "data-testid": "jed-title" }), "jed-wide")];
    var body = el("textarea", { maxlength: "2000", "data-testid": "jed-body" });
    body.value = step.body || "";
    body.addEventListener("input", function () { step.body = body.value; sync(); });
    out.push(field(T.body, body, "jed-wide"));
    if (step.sms) { out.push(field(T.sms_text, textInput(step, "sms_text", { maxlength: "60", "data-testid": "jed-sms" }), "jed-wide")); }
    return out;
  }

  function branchFields(step) {
    var tests = el("select", { "data-testid": "jed-test" });
    schema.tests.forEach(function (t) {
      var opt = el("option", { value: t.key, text: t.label });
      if (t.key === step.test) { opt.selected = true; }
      tests.appendChild(opt);
    });
    tests.addEventListener("change", function () { step.test = tests.value; changed(); });
    var out = [field(T.asks, tests)];
    if (step.test === "segment") {
      out.push(field(T.segment, pick(schema.segments, step.segment_id, function (v) { step.segment_id = v; }, "jed-segment")));
    }
    if (step.test === "random") {
      out.push(field(T.percent, numberInput(step.percent || 50, { min: "1", max: "99", "data-testid": "jed-percent" },
        function (v) { step.percent = v; })));
    }
    return out;
  }

  function fieldsOf(step) {
    if (step.kind === "wait") { return waitFields(step); }
    if (step.kind === "message") { return messageFields(step); }
    if (step.kind === "coupon") {
      return [field(T.coupon, pick(schema.coupons, step.template_id, function (v) { step.template_id = v; }, "jed-coupon"))];
    }
    if (step.kind === "points") {
      return [field(T.points, numberInput(step.points || 0, { min: "1", max: "100000", "data-testid": "jed-points" },
        function (v) { step.points = v; }))];
    }
    if (step.kind === "tag") { return [field(T.tag, pick(schema.tags, step.tag_id, function (v) { step.tag_id = v; }, "jed-tag"))]; }
    return branchFields(step);
  }

  function button(label, text, onClick) {
    var b = el("button", { type: "button", title: label, "aria-label": label, text: text });
    b.addEventListener("click", onClick);
    return b;
  }

  function stepCard(list, index) {
    var step = list[index];
    var card = el("div", { "class": "jed-step" + (errors[step.id] ? " has-error" : ""), "data-testid": "jed-step", "data-kind": step.kind });
    card.appendChild(el("div", { "class": "jed-head" }, [
      el("span", { "class": "jed-kind", text: kindLabel[step.kind] || step.kind }),
      index > 0 ? button(T.up, "↑", function () { list.splice(index - 1, 0, list.splice(index, 1)[0]); changed(); }) : null,
      index < list.length - 1 ? button(T.down, "↓", function () { list.splice(index + 1, 0, list.splice(index, 1)[0]); changed(); }) : null,
      button(T.remove, "✕", function () { list.splice(index, 1); delete errors[step.id]; changed(); })
    ]));
    card.appendChild(el("div", { "class": "jed-fields" }, fieldsOf(step)));
    if (errors[step.id]) { card.appendChild(el("div", { "class": "jed-error", role: "alert", "data-testid": "jed-error", text: errors[step.id] })); }
    if (step.kind === "branch") {
      step.yes = step.yes || []; step.no = step.no || [];
      card.appendChild(el("div", { "class": "jed-branches" }, [
        el("div", { "class": "jed-branch jed-yes", "data-testid": "jed-yes" }, [el("div", { "class": "jny-branch-label", text: T.yes }), listOf(step.yes)]),
        el("div", { "class": "jed-branch jed-no", "data-testid": "jed-no" }, [el("div", { "class": "jny-branch-label", text: T.no }), listOf(step.no)])
      ]));
    }
    return card;
  }

  function adder(list) {
    var select = el("select", { "aria-label": T.add, "data-testid": "jed-add-kind" });
    schema.kinds.forEach(function (k) { select.appendChild(el("option", { value: k.key, text: k.label })); });
    var add = el("button", { type: "button", "class": "btn btn-small", "data-testid": "jed-add", text: "+ " + T.add });
    add.addEventListener("click", function () {
      if (count(steps) >= schema.limits.steps) { window.alert(T.too_many); return; }
      list.push(blank(select.value));
      changed();
    });
    return el("div", { "class": "jed-add" }, [select, add]);
  }

  function listOf(list) {
    var wrap = el("div", { "class": "jed-list" });
    list.forEach(function (_, i) { wrap.appendChild(stepCard(list, i)); });
    wrap.appendChild(adder(list));
    return wrap;
  }

  function render() {
    root.textContent = "";
    if (!steps.length) { root.appendChild(el("p", { "class": "muted small", text: T.empty })); }
    root.appendChild(listOf(steps));
  }

  var trigger = document.getElementById("jny-trigger");
  var daysField = document.getElementById("jny-days-field");
  var hoursField = document.getElementById("jny-hours-field");
  function showDays() {
    var withDays = (trigger.getAttribute("data-with-days") || "").split(",");
    var withHours = (trigger.getAttribute("data-with-hours") || "").split(",");
    daysField.hidden = withDays.indexOf(trigger.value) < 0;
    if (hoursField) { hoursField.hidden = withHours.indexOf(trigger.value) < 0; }
  }
  if (trigger && daysField) { trigger.addEventListener("change", showDays); showDays(); }

  sync();
  render();
})();
