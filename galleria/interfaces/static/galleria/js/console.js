/* Galleria console: ECharts from JSON embedded with json_script, confirmations for destructive forms.
   No inline handlers; everything is wired from data-* attributes. */
(function () {
  "use strict";

  var PALETTE = ["#8a1c3f", "#c9a45c", "#2b6cb0", "#1f8a4c", "#b7791f", "#7c5e99", "#d77a9a", "#4a5568"];
  var TEXT = "#1f2430";
  var MUTED = "#6b7280";
  var GRID = "#eef0f3";
  var FONT = getComputedStyle(document.body).fontFamily;
  var charts = [];
  /* No animation for automated browsers (stable screenshots) or people who asked for less motion. */
  var ANIMATE = !(navigator.webdriver ||
    (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches));

  function readData(el) {
    var node = document.getElementById(el.dataset.chartData);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function isEmpty(kind, data) {
    if (!data) { return true; }
    var values = kind === "pie" ? (data.items || []).map(function (i) { return i.value; }) : (data.values || []);
    return values.length === 0 || values.every(function (v) { return !v; });
  }

  function base() {
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT, color: TEXT },
      animation: ANIMATE,
      animationDuration: 500
    };
  }

  function axisStyle(extra) {
    var axis = {
      axisLine: { lineStyle: { color: "#cfd4dc" } },
      axisTick: { show: false },
      axisLabel: { color: MUTED },
      splitLine: { lineStyle: { color: GRID } }
    };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { axis[k] = extra[k]; } }
    return axis;
  }

  var builders = {
    line: function (data, name) {
      var opt = base();
      opt.tooltip = { trigger: "axis" };
      opt.grid = { left: 40, right: 16, top: 16, bottom: 28 };
      opt.xAxis = axisStyle({ type: "category", boundaryGap: false, data: data.labels, splitLine: { show: false } });
      opt.yAxis = axisStyle({ type: "value", minInterval: 1 });
      opt.series = [{
        name: name, type: "line", data: data.values, smooth: false, symbol: "circle", symbolSize: 5,
        lineStyle: { width: 2.5 },
        areaStyle: {
          color: new window.echarts.graphic.LinearGradient(0, 0, 0, 1, [
            { offset: 0, color: "rgba(138, 28, 63, .22)" }, { offset: 1, color: "rgba(138, 28, 63, .01)" }
          ])
        }
      }];
      return opt;
    },
    bar: function (data, name) {
      var opt = base();
      opt.tooltip = { trigger: "axis", axisPointer: { type: "shadow" } };
      opt.grid = { left: 16, right: 40, top: 8, bottom: 8, containLabel: true };
      opt.xAxis = axisStyle({ type: "value", minInterval: 1 });
      opt.yAxis = axisStyle({ type: "category", inverse: true, data: data.labels, splitLine: { show: false } });
      opt.series = [{
        name: name, type: "bar", data: data.values, barMaxWidth: 26,
        itemStyle: { borderRadius: [0, 4, 4, 0], color: PALETTE[0] },
        label: { show: true, position: "right", color: MUTED }
      }];
      return opt;
    },
    /* {labels, series: [{name, values}], grouped?}: one stacked bar per label (e.g. members and non-members per
       day), or side by side when `grouped` */
    stack: function (data) {
      var opt = base();
      opt.tooltip = { trigger: "axis", axisPointer: { type: "shadow" } };
      opt.legend = { top: 0, right: 8, textStyle: { color: TEXT }, icon: "circle" };
      opt.grid = { left: 16, right: 16, top: 32, bottom: 8, containLabel: true };
      opt.xAxis = axisStyle({ type: "category", data: data.labels, splitLine: { show: false } });
      opt.yAxis = axisStyle({ type: "value" });
      opt.series = (data.series || []).map(function (s, i) {
        return { name: s.name, type: "bar", stack: data.grouped ? undefined : "total", data: s.values, barMaxWidth: 22,
                 itemStyle: { color: PALETTE[i % PALETTE.length] } };
      });
      return opt;
    },
    pie: function (data, name) {
      var opt = base();
      opt.tooltip = { trigger: "item", formatter: "{b}: {c} ({d}%)" };
      opt.legend = { orient: "vertical", right: 8, top: "middle", textStyle: { color: TEXT }, icon: "circle" };
      opt.series = [{
        name: name, type: "pie", radius: ["45%", "72%"], center: ["38%", "50%"], data: data.items,
        percentPrecision: 1,
        itemStyle: { borderColor: "#fff", borderWidth: 2 },
        label: { formatter: "{d}%", color: MUTED },
        labelLine: { length: 8, length2: 6 }
      }];
      return opt;
    }
  };

  function initCharts(root) {
    var nodes = root.querySelectorAll("[data-chart]");
    if (!nodes.length) { return; }
    var lang = (document.documentElement.lang || "").toLowerCase();
    var locale = lang.indexOf("zh") === 0 ? "ZH" : "EN";
    nodes.forEach(function (el) {
      var kind = el.dataset.chart;
      var data = readData(el);
      if (isEmpty(kind, data)) {
        el.classList.add("chart-empty");
        el.textContent = el.dataset.empty || "";
        return;
      }
      if (!window.echarts || !builders[kind]) { return; }
      var chart = window.echarts.init(el, null, { locale: locale, renderer: "canvas" });
      chart.setOption(builders[kind](data, el.dataset.seriesName || ""));
      charts.push(chart);
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { charts.forEach(function (c) { c.resize({ animation: { duration: 0 } }); }); }, 120);
  });

  /* <form data-confirm="…">: ask before submitting (removing an identifier, deactivating…). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* Staff form: the merchant picker matters only for merchant roles, the group picker only for group roles. */
  function syncRoleFields(form) {
    var role = form.querySelector("[name=role]");
    if (!role) { return; }
    var merchantRoles = (form.dataset.merchantRoles || "").split(" ");
    var groupRoles = (form.dataset.groupRoles || "").split(" ");
    var merchant = form.querySelector("[data-field=merchant]");
    var group = form.querySelector("[data-field=mall_group]");
    if (merchant) { merchant.hidden = merchantRoles.indexOf(role.value) < 0; }
    if (group) { group.hidden = groupRoles.indexOf(role.value) < 0; }
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (event.target.name === "role" && form && form.dataset.roleForm !== undefined) { syncRoleFields(form); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    initCharts(document);
    document.querySelectorAll("form[data-role-form]").forEach(syncRoleFields);
  });
})();
