/* The staff campaign report's charts (templates/promotions/report.html), drawn with uPlot
   (static/vendor/uplot/) from the figures the page carries in #report-charts. Each chart is
   hidden from screen readers: the table beside it has the same figures. Without this script,
   or without uPlot, the page is its tables. */
(function () {
  "use strict";
  var dataEl = document.getElementById("report-charts");
  if (!dataEl || typeof window.uPlot !== "function") { return; }
  var charts = JSON.parse(dataEl.textContent);
  var HEIGHT = 240;
  var COLOUR = "#a4161a";

  function short(text) {
    text = String(text);
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) { return text.slice(5); }  /* a day: MM-DD */
    return text.length > 16 ? text.slice(0, 15) + "\u2026" : text;
  }

  function options(chart, width) {
    var labels = chart.labels;
    var series = chart.series[0];
    var bars = chart.kind === "bars";
    return {
      width: width,
      height: HEIGHT,
      padding: [12, 28, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)] },
        y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil(max * 1.1))]; } }
      },
      axes: [
        {
          splits: function () { return labels.map(function (_, i) { return i; }); },
          values: function (u, splits) { return splits.map(function (i) { return short(labels[i] || ""); }); },
          rotate: labels.length > 6 ? -40 : 0,
          size: labels.length > 6 ? 80 : 40
        },
        { values: function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) ? v : ""; }); } }
      ],
      series: [
        {},
        {
          label: series.label,
          stroke: COLOUR,
          width: bars ? 0 : 2,
          fill: bars ? COLOUR : "rgba(164, 22, 26, 0.12)",
          paths: bars ? window.uPlot.paths.bars({ size: [0.6, 64] }) : undefined,
          points: { show: !bars }
        }
      ]
    };
  }

  charts.forEach(function (chart) {
    var el = document.getElementById(chart.id);
    if (!el || !chart.labels.length) { return; }
    var xs = chart.labels.map(function (_, i) { return i; });
    var width = function () { return Math.max(el.clientWidth, 280); };
    var plot = new window.uPlot(options(chart, width()), [xs, chart.series[0].values], el);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: HEIGHT }); });
  });
})();
