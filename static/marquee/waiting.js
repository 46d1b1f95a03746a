/* The onsale waiting room: a countdown to opening (on the server's clock, whatever this
   device's says) and the buyer's place, polled from the status endpoint every few seconds.
   Without JavaScript the page refreshes itself (a <noscript> meta refresh) and has a button. */
(function () {
  "use strict";
  var box = document.querySelector("[data-waiting]");
  if (!box || !window.fetch) return;

  var statusUrl = box.getAttribute("data-status-url");
  var pageUrl = box.getAttribute("data-page-url");
  var pollMs = parseInt(box.getAttribute("data-poll-ms"), 10) || 5000;
  var state = box.getAttribute("data-state");
  var opensAt = parseInt(box.getAttribute("data-opens-at"), 10) || 0;
  // server time minus this device's time, first from the page, then from each poll's midpoint
  var offset = (parseInt(box.getAttribute("data-server-time"), 10) || Date.now()) - Date.now();

  var countdownBox = box.querySelector("[data-countdown-box]");
  var clock = box.querySelector("[data-countdown-clock]");
  var clockLabel = box.querySelector("[data-countdown-label]");
  var live = box.querySelector("[data-live]");
  var positionText = box.querySelector("[data-position-text]");
  var estimateText = box.querySelector("[data-estimate-text]");
  var bar = box.querySelector("[data-bar]");
  var firstPosition = null;
  var timer = null;
  var failures = 0;

  function serverNow() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clockText(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  function tickCountdown() {
    if (state !== "early" || !opensAt) return;
    var left = opensAt - serverNow();
    if (left <= 0) {
      clockLabel.textContent = box.getAttribute("data-label-opening");
      clock.textContent = "";
      schedule(300 + Math.random() * 1200); // spread the crowd's first poll over a second
      return;
    }
    clock.textContent = clockText(left);
    window.setTimeout(tickCountdown, Math.min(1000, left));
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function positionNode() {
    var node = live.querySelector("[data-position]");
    if (!node) {
      var p = document.createElement("p");
      p.className = "waiting-number";
      node = document.createElement("strong");
      node.setAttribute("data-position", "");
      p.appendChild(node);
      live.insertBefore(p, live.firstChild);
    }
    return node;
  }

  function show(data) {
    state = data.state;
    box.setAttribute("data-state", state);
    if (data.opensAt) opensAt = data.opensAt;
    if (countdownBox) countdownBox.hidden = state !== "early";
    if (data.position) {
      setText(positionNode(), String(data.position));
      if (firstPosition === null || data.position > firstPosition) firstPosition = data.position;
      if (bar && firstPosition > 1) {
        bar.style.width = Math.round(100 * (1 - (data.position - 1) / firstPosition)) + "%";
      }
    }
    setText(positionText, data.positionText || "");
    setText(estimateText, data.estimateText || "");
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  }

  function poll() {
    var sent = Date.now();
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        var data = answer.data;
        if (!answer.ok) {
          failures += 1;
          if (data && data.error) setText(estimateText, data.error.message);
          schedule(Math.min(30000, pollMs * failures));
          return;
        }
        failures = 0;
        if (data.reload) { window.location.assign(pageUrl); return; }
        if (data.serverTime) offset = data.serverTime - (sent + Date.now()) / 2;
        var wasEarly = state === "early";
        show(data);
        if (state === "early") {
          if (!wasEarly) tickCountdown();
          // until opening, a poll only keeps the place: not often, and not past the opening
          schedule(Math.max(200, Math.min(15000, opensAt - serverNow() + 200 + Math.random() * 1000)));
        } else {
          schedule(state === "opening" ? 1000 : pollMs);
        }
      })
      .catch(function () {
        failures += 1;
        schedule(Math.min(30000, pollMs * (failures + 1)));
      });
  }

  if (state === "early") {
    tickCountdown();
    schedule(Math.min(15000, Math.max(200, opensAt - serverNow() + 200)));
  } else {
    schedule(state === "opening" ? 1000 : pollMs);
  }
})();
