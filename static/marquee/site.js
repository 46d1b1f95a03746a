/* Marquee: small progressive enhancements shared by every page. The pages work without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* A hold's countdown: mm:ss until the seats are released; then say so plainly and stop the
     forms that would fail. The server decides; this only tells the buyer in time. */
  function startCountdown(box) {
    /* Seconds left as the server counted them when it sent the page: a wrong clock on the
       buyer's machine does not move the deadline. */
    var expires = Date.now() + 1000 * parseInt(box.getAttribute("data-seconds-left"), 10);
    var clock = box.querySelector("[data-countdown-clock]");
    var expired = document.querySelector("[data-countdown-expired]");
    var warning = document.querySelector("[data-countdown-warning]");
    var warned = false;
    if (isNaN(expires) || !clock) { return; }
    function tick() {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      if (left <= 60 && left > 0 && !warned) {
        /* Said once, not every second: the clock itself stays silent. */
        box.classList.add("urgent");
        if (warning) { warning.textContent = box.getAttribute("data-warning"); }
        warned = true;
      }
      if (left === 0) {
        window.clearInterval(timer);
        box.hidden = true;
        document.querySelectorAll("[data-countdown-scope]").forEach(function (form) {
          form.hidden = true;
          form.querySelectorAll("button, input, select").forEach(function (el) { el.disabled = true; });
        });
        if (expired) { expired.hidden = false; var link = expired.querySelector("a"); if (link) { link.focus(); } }
        document.dispatchEvent(new CustomEvent("marquee:hold-expired"));
      }
    }
    var timer = window.setInterval(tick, 1000);
    tick();
  }
  document.querySelectorAll("[data-countdown]").forEach(startCountdown);

  /* One submission per click: a second click while the first is on its way does nothing.
     (The server copes with doubles anyway; this spares the buyer a confusing answer.) */
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var buttons = form.querySelectorAll("button[type=submit]");
      window.setTimeout(function () {
        if (event.defaultPrevented) { return; }  /* another script stopped it: nothing was sent */
        buttons.forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
  /* Back to a page from the browser's cache: its buttons work again. */
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[method=post] button[type=submit]").forEach(function (b) { b.disabled = false; });
  });

  /* Money as the page's language writes it (the server does the same with CLDR data).
     `digits`: the currency's ISO 4217 minor unit, from the server (ticketing/money.py). */
  window.marqueeMoney = function (amount, currency, language, digits) {
    var locale = { "en": "en-GB", "fr": "fr-FR", "zh-hans": "zh-Hans-CN" }[language] || language;
    var value = amount / Math.pow(10, digits);
    var options = { style: "currency", currency: currency };
    if (value % 1 !== 0) { options.minimumFractionDigits = digits; options.maximumFractionDigits = digits; }
    return new Intl.NumberFormat(locale, options).format(value);
  };

  /* The price of a set of tickets, as the server prices it: ticket type price, seat-type
     surcharge, booking fee per ticket with a cap. The server's price is the one charged. */
  window.marqueeQuote = function (config, lines) {
    var prices = {};
    config.ticketTypes.forEach(function (t) { prices[t.id] = t.price; });
    var subtotal = 0;
    lines.forEach(function (line) {
      subtotal += (prices[line.type] || 0) + (config.surcharges[line.seatType] || 0);
    });
    var fee = config.bookingFee * lines.length;
    if (config.bookingFeeCap !== null && config.bookingFeeCap !== undefined) { fee = Math.min(fee, config.bookingFeeCap); }
    return { subtotal: subtotal, fee: fee, total: subtotal + fee };
  };
})();
