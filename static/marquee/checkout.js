/* Checkout: keep the line prices and the total in step with the ticket types chosen. */
(function () {
  "use strict";
  var configEl = document.getElementById("checkout-config");
  if (!configEl) { return; }
  var config = JSON.parse(configEl.textContent);
  var money = function (n) { return window.marqueeMoney(n, config.currency, config.language, config.currencyDigits); };
  var prices = {};
  config.ticketTypes.forEach(function (t) { prices[t.id] = t.price; });

  function update() {
    var lines = [];
    document.querySelectorAll("tr[data-seat]").forEach(function (row) {
      var seat = row.getAttribute("data-seat");
      var select = row.querySelector("[data-type-select]");
      var line = { type: parseInt(select.value, 10), seatType: config.seatTypes[seat] };
      lines.push(line);
      var cell = row.querySelector("[data-line-price]");
      if (cell) { cell.textContent = money((prices[line.type] || 0) + (config.surcharges[line.seatType] || 0)); }
    });
    var quote = window.marqueeQuote(config, lines);
    var fee = document.querySelector("[data-fee]");
    var total = document.querySelector("[data-total]");
    if (fee) { fee.textContent = money(quote.fee); }
    if (total) { total.textContent = money(quote.total); }
    // A promo code's discount was priced on the server for the types as they were: until it
    // is applied again, show the prices without it rather than a discount that may be wrong.
    document.querySelectorAll("[data-discount]").forEach(function (el) { el.hidden = true; });
    var stale = document.querySelector("[data-promo-stale]");
    if (stale) { stale.hidden = false; }
  }
  document.querySelectorAll("[data-type-select]").forEach(function (s) { s.addEventListener("change", update); });
})();
