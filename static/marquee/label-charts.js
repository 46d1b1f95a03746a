/* Charts of figures by label (a day, a film, a cinema), drawn with uPlot (static/vendor/uplot/)
   from the figures a page carries as JSON: the campaign report (campaign-report.js) and the
   staff dashboard (staff-dashboard.js) call MarqueeCharts.draw with the id of their JSON and
   their look. Each chart is hidden from screen readers: the table beside it has the same
   figures. Without this script, or without uPlot, a page is its tables. Money comes in integer
   minor units with its currency's digits (`chart.digits`); only the axis writes it as an amount. */
(function () {
  "use strict";

  function short(text) {
    text = String(text);
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) { return text.slice(5); }  /* a day: MM-DD */
    return text.length > 16 ? text.slice(0, 15) + "\u2026" : text;
  }

  function amount(value, digits) {
    var scaled = value / Math.pow(10, digits || 0);
    return scaled >= 1000 ? Math.round(scaled / 100) / 10 + "k" : String(Math.round(scaled));
  }

  function options(chart, width, look) {
    var labels = chart.labels;
    var bars = chart.kind === "bars";
    var money = typeof chart.digits === "number";
    var every = Math.max(1, Math.ceil(labels.length / Math.max(2, Math.floor(width / 48))));
    var tilted = labels.length > look.tiltAfter;
    return {
      width: width,
      height: look.height,
      padding: [12, look.padRight, 0, 0],
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
          rotate: tilted ? -35 : 0,
          size: tilted ? 80 : 40
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
          stroke: look.colour,
          width: bars ? 0 : 2,
          fill: bars ? look.colour : look.fill,
          paths: bars ? window.uPlot.paths.bars({ size: [0.6, 64] }) : undefined,
          points: { show: !bars && labels.length <= 31 }
        }
      ]
    };
  }

  /* look: {height, colour, fill (under a line), minWidth, padRight, tiltAfter (labels)} */
  function draw(dataId, look) {
    var dataEl = document.getElementById(dataId);
    if (!dataEl || typeof window.uPlot !== "function") { return; }
    var plots = [];
    JSON.parse(dataEl.textContent).forEach(function (chart) {
      var el = document.getElementById(chart.id);
      if (!el || !chart.labels.length) { return; }
      var xs = chart.labels.map(function (_, i) { return i; });
      var width = function () { return Math.max(el.clientWidth, look.minWidth); };
      var plot = new window.uPlot(options(chart, width(), look), [xs, chart.series[0].values], el);
      el.setAttribute("data-drawn", "1");
      plots.push({ plot: plot, width: width });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) { window.clearTimeout(pending); }
      pending = window.setTimeout(function () {
        plots.forEach(function (p) { p.plot.setSize({ width: p.width(), height: look.height }); });
      }, 100);
    });
  }

  window.MarqueeCharts = { draw: draw };
})();
