/* The sales dashboard's charts (templates/staff/dashboard.html): sales and revenue by day, film
   and cinema, drawn by label-charts.js from #dashboard-charts (revenue per currency). */
(function () {
  "use strict";
  if (!window.MarqueeCharts) { return; }
  window.MarqueeCharts.draw("dashboard-charts", {
    height: 220, colour: "#3b3bb3", fill: "rgba(59, 59, 179, 0.12)", minWidth: 240, padRight: 16,
    tiltAfter: 4
  });
})();
