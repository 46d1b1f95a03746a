/* The sales dashboard's charts (templates/staff/dashboard.html), drawn with uPlot
   (static/vendor/uplot/) from the figures the page carries in #dashboard-charts, as the campaign
   report does. Each chart is hidden from screen readers: the table beside it has the same
   figures. Without this script, or without uPlot, the page is its tables. Revenue comes in
   integer minor units with its currency's digits; only the axis writes it as an amount. */
(function () {
  "use strict";
  var dataEl = document.getElementById("dashboard-charts");
  if (!dataEl || typeof window.uPlot !== "function") { return; }
  var charts = JSON.parse(dataEl.textContent);
  var HEIGHT = 220;
  var COLOUR = "#3b3bb3";

  function short(text) {
    text = String(text);
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) { return text.slice(5); }  /* a day: MM-DD */
    return text.length > 16 ? text.slice(0, 15) + "\u2026" : text;
  }

  function amount(value, digits) {
    var scaled = value / Math.pow(10, digits || 0);
    return scaled >= 1000 ? Math.round(scaled / 100) / 10 + "k" : String(Math.round(scaled));
  }

  function options(chart, width) {
    var labels = chart.labels;
    var bars = chart.kind === "bars";
    var money = typeof chart.digits === "number";
    var every = Math.max(1, Math.ceil(labels.length / Math.max(2, Math.floor(width / 48))));
    return {
      width: width,
      height: HEIGHT,
      padding: [12, 16, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)] },
        y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil(max * 1.1))]; } }
      },
      axes: [
        {
          splits: function () {
            return labels.map(function (_, i) { return i; }).filter(function (i) { return i % every === 0; });
          },
          values: function (u, splits) { return splits.map(function (i) { return short(labels[i] || ""); }); },
          rotate: bars && labels.length > 4 ? -35 : 0,
          size: bars && labels.length > 4 ? 80 : 40
        },
        {
          size: 56,
          values: function (u, splits) {
            return splits.map(function (v) {
              if (money) { return amount(v, chart.digits); }
              return Number.isInteger(v) ? v : "";
            });
          }
        }
      ],
      series: [
        {},
        {
          label: chart.series[0].label,
          stroke: COLOUR,
          width: bars ? 0 : 2,
          fill: bars ? COLOUR : "rgba(59, 59, 179, 0.12)",
          paths: bars ? window.uPlot.paths.bars({ size: [0.6, 64] }) : undefined,
          points: { show: !bars && labels.length <= 31 }
        }
      ]
    };
  }

  var plots = [];
  charts.forEach(function (chart) {
    var el = document.getElementById(chart.id);
    if (!el || !chart.labels.length) { return; }
    var xs = chart.labels.map(function (_, i) { return i; });
    var width = function () { return Math.max(el.clientWidth, 240); };
    var plot = new window.uPlot(options(chart, width()), [xs, chart.series[0].values], el);
    el.setAttribute("data-drawn", "1");
    plots.push({ plot: plot, width: width });
  });
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: p.width(), height: HEIGHT }); });
    }, 100);
  });
})();
