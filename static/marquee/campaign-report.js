/* The staff campaign report's charts (templates/promotions/report.html): by day, film, cinema,
   city and the presale pace, drawn by label-charts.js from #report-charts. */
(function () {
  "use strict";
  if (!window.MarqueeCharts) { return; }
  window.MarqueeCharts.draw("report-charts", {
    height: 240, colour: "#a4161a", fill: "rgba(164, 22, 26, 0.12)", minWidth: 280, padRight: 28,
    tiltAfter: 6
  });
})();
