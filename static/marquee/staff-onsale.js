/* The live onsale page (templates/staff/onsale_live.html): polls the page's JSON every few
   seconds, updates the figures (announced politely to screen readers) and redraws three uPlot
   charts (static/vendor/uplot/): the queue length, admitted and purchases a minute, seats left.
   The charts are hidden from screen readers: the figures say the same. Without this script the
   page is its figures (reload for newer ones). */
(function () {
  "use strict";
  var root = document.getElementById("onsale-live");
  var dataEl = document.getElementById("onsale-figures");
  if (!root || !dataEl) { return; }
  var url = root.getAttribute("data-live-url");
  var poll = Math.max(2, parseInt(root.getAttribute("data-poll"), 10) || 5) * 1000;
  var HEIGHT = 200;
  var charts = {};
  var hasPlot = typeof window.uPlot === "function";

  function shown(value) { return value === null || value === undefined ? "\u2013" : String(value); }

  function updateFigures(figures) {
    var now = figures.now;
    var values = {
      waiting: now.waiting,
      admitted_per_minute: now.admitted_per_minute,
      purchases_per_minute: now.purchases_per_minute,
      seats_left: now.seats.left,
      live_admissions: now.live_admissions,
      paid_orders: now.paid_orders
    };
    Object.keys(values).forEach(function (name) {
      var el = root.querySelector('[data-figure="' + name + '"]');
      if (el && el.textContent !== shown(values[name])) { el.textContent = shown(values[name]); }
    });
  }

  function clock(seconds) {
    var d = new Date(seconds * 1000);
    function two(n) { return n < 10 ? "0" + n : String(n); }
    return two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function options(width, series) {
    return {
      width: width,
      height: HEIGHT,
      padding: [12, 12, 0, 0],
      legend: { show: series.length > 2, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false },
        y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil((max || 0) * 1.1))]; } }
      },
      axes: [
        { values: function (u, splits) { return splits.map(clock); }, size: 36, space: 70 },
        { size: 52 }
      ],
      series: series
    };
  }

  var LINES = {
    waiting: [{}, { label: "waiting", stroke: "#3b3bb3", width: 2, fill: "rgba(59,59,179,0.08)" }],
    rates: [{},
      { label: "admitted a minute", stroke: "#3b3bb3", width: 2 },
      { label: "purchases a minute", stroke: "#1f8a4c", width: 2, dash: [6, 4] }],
    seats_left: [{}, { label: "seats left", stroke: "#b3591f", width: 2 }]
  };

  function dataFor(name, s) {
    if (name === "waiting") { return [s.t, s.waiting]; }
    if (name === "rates") { return [s.t, s.admitted_per_minute, s.purchases_per_minute]; }
    return [s.t, s.seats_left];
  }

  function draw(figures) {
    if (!hasPlot) { return; }
    var s = figures.series;
    Object.keys(LINES).forEach(function (name) {
      var el = root.querySelector('[data-chart="' + name + '"]');
      if (!el) { return; }
      var width = Math.max(240, Math.floor(el.getBoundingClientRect().width) || 320);
      var data = dataFor(name, s);
      if (!charts[name]) {
        charts[name] = new window.uPlot(options(width, LINES[name]), data, el);
      } else {
        charts[name].setData(data);
      }
    });
  }

  function refresh() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 200) {
        try {
          var figures = JSON.parse(request.responseText);
          updateFigures(figures);
          draw(figures);
        } catch (e) { /* a page from the sign-in: leave the figures as they are */ }
      }
      setTimeout(refresh, poll);
    };
    request.onerror = function () { setTimeout(refresh, poll * 2); };
    request.send();
  }

  var first = JSON.parse(dataEl.textContent);
  draw(first);
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(charts).forEach(function (name) {
        var el = root.querySelector('[data-chart="' + name + '"]');
        charts[name].setSize({ width: Math.max(240, Math.floor(el.getBoundingClientRect().width)), height: HEIGHT });
      });
    }, 200);
  });
  setTimeout(refresh, poll);
}());
