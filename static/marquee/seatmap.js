/* The seat map: arrow-key moves between seats, couple seats chosen in pairs, the chosen seats
   with a ticket type each and the total, and statuses kept live: pushed by the server
   (EventSource, when the page gives a push URL) with a slow safety poll, else polled.
   Without this script the map is a plain list of checkboxes and still books. */
(function () {
  "use strict";
  var form = document.getElementById("seat-form");
  var map = document.getElementById("seatmap");
  var configEl = document.getElementById("seatmap-config");
  if (!form || !map || !configEl) { return; }
  var config = JSON.parse(configEl.textContent);
  var strings = document.getElementById("seatmap-strings").dataset;
  var inputs = Array.prototype.slice.call(map.querySelectorAll(".seat-input"));
  var byId = {};
  inputs.forEach(function (input) { byId[input.value] = input; });
  var list = form.querySelector("[data-list]");
  var empty = form.querySelector("[data-empty]");
  var totals = form.querySelector("[data-totals]");
  var announcer = form.querySelector("[data-announce]");
  var holdButton = form.querySelector("[data-hold-button]");
  var typeTemplate = document.getElementById("type-select-template");
  var chosenTypes = {};
  var money = function (n) { return window.marqueeMoney(n, config.currency, config.language, config.currencyDigits); };
  var fmt = function (text, values) { return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); };
  var polling = true;

  function say(text) { announcer.textContent = ""; window.setTimeout(function () { announcer.textContent = text; }, 50); }
  function checked() { return inputs.filter(function (i) { return i.checked; }); }
  function label(input) { return input.getAttribute("data-label"); }

  /* ---- the chosen seats, their ticket types and the total ---- */
  function renderSelection() {
    var chosen = checked();
    list.textContent = "";
    chosen.forEach(function (input) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "seat-name";
      name.textContent = label(input);
      var select = typeTemplate.content.firstElementChild.cloneNode(true);
      select.name = "type_" + input.value;
      select.setAttribute("aria-label", fmt(strings.typeLabel, { seat: label(input) }));
      if (chosenTypes[input.value]) { select.value = chosenTypes[input.value]; }
      select.addEventListener("change", function () { chosenTypes[input.value] = select.value; renderTotals(); });
      chosenTypes[input.value] = select.value;
      li.appendChild(name);
      li.appendChild(select);
      list.appendChild(li);
    });
    empty.hidden = chosen.length > 0;
    holdButton.textContent = (chosen.length && config.holdLabels[chosen.length]) || holdButton.getAttribute("data-default");
    renderTotals();
  }
  holdButton.setAttribute("data-default", holdButton.textContent);

  function renderTotals() {
    var chosen = checked();
    totals.hidden = chosen.length === 0;
    var quote = window.marqueeQuote(config, chosen.map(function (input) {
      return { type: parseInt(chosenTypes[input.value], 10), seatType: input.getAttribute("data-type") };
    }));
    totals.querySelector("[data-subtotal]").textContent = money(quote.subtotal);
    totals.querySelector("[data-fee]").textContent = money(quote.fee);
    totals.querySelector("[data-total]").textContent = money(quote.total);
  }

  map.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.classList.contains("seat-input")) { return; }
    var partner = input.getAttribute("data-pair") && byId[input.getAttribute("data-pair")];
    if (partner && !partner.disabled) { partner.checked = input.checked; }
    if (checked().length > config.maxSeats) {
      input.checked = false;
      if (partner) { partner.checked = false; }
      say(strings.max);
    } else {
      say(fmt(input.checked ? strings.chosen : strings.unchosen, { seat: label(input) }));
    }
    renderSelection();
  });

  form.addEventListener("submit", function (event) {
    if (checked().length === 0) {
      event.preventDefault();
      say(empty.textContent);
      empty.setAttribute("tabindex", "-1");
      empty.focus();
      return;
    }
    polling = false;
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !polling) { polling = true; schedule(0); }
  });

  /* ---- keyboard: one tab stop for the whole map, arrow keys inside it ---- */
  function focusable(input) { return !input.disabled; }
  function setRoving(target) {
    inputs.forEach(function (i) { i.tabIndex = -1; });
    if (target) { target.tabIndex = 0; }
  }
  function firstStop() { return checked()[0] || inputs.filter(focusable)[0]; }
  setRoving(firstStop());
  map.addEventListener("focusin", function (event) {
    if (event.target.classList.contains("seat-input")) { setRoving(event.target); }
  });
  function move(from, dx, dy) {
    var x = +from.dataset.x, y = +from.dataset.y;
    var candidates = inputs.filter(function (i) {
      if (!focusable(i) || i === from) { return false; }
      var ix = +i.dataset.x, iy = +i.dataset.y;
      if (dy === 0) { return iy === y && (dx > 0 ? ix > x : ix < x); }
      return dy > 0 ? iy > y : iy < y;
    });
    candidates.sort(function (a, b) {
      var ax = +a.dataset.x, ay = +a.dataset.y, bx = +b.dataset.x, by = +b.dataset.y;
      if (dy === 0) { return Math.abs(ax - x) - Math.abs(bx - x); }
      return (Math.abs(ay - y) - Math.abs(by - y)) || (Math.abs(ax - x) - Math.abs(bx - x));
    });
    return candidates[0];
  }
  map.addEventListener("keydown", function (event) {
    var from = event.target;
    if (!from.classList.contains("seat-input")) { return; }
    var keys = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
    var step = keys[event.key];
    var target = null;
    if (step) { target = move(from, step[0], step[1]); }
    else if (event.key === "Home") { target = inputs.filter(focusable)[0]; }
    else if (event.key === "End") { var all = inputs.filter(focusable); target = all[all.length - 1]; }
    else if (event.key === "Enter") { event.preventDefault(); from.click(); return; }
    else { return; }
    event.preventDefault();
    if (target) { setRoving(target); target.focus(); }
  });

  /* ---- map or list ---- */
  form.querySelectorAll("[data-view]").forEach(function (button) {
    button.addEventListener("click", function () {
      var asList = button.getAttribute("data-view") === "list";
      map.classList.toggle("as-list", asList);
      form.querySelectorAll("[data-view]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    });
  });

  /* ---- live statuses ---- */
  function setStatus(input, status) {
    var seat = input.nextElementSibling;
    seat.className = seat.className.replace(/\bs-\w+/, "s-" + status);
    var state = seat.querySelector(".state");
    if (state) { state.textContent = status === "available" ? "" : ", " + strings.stateTaken; }
  }
  function apply(seats) {
    var lost = [];
    var focused = document.activeElement;
    seats.forEach(function (s) {
      var input = byId[String(s.id)];
      if (!input || input.getAttribute("data-mine")) { return; }
      var free = s.status === "available";
      if (!free && !input.disabled) {
        if (input.checked) { input.checked = false; lost.push(label(input)); }
        input.disabled = true;
        setStatus(input, s.status);
      } else if (free && input.disabled) {
        input.disabled = false;
        setStatus(input, "available");
      }
    });
    if (lost.length) {
      say(fmt(lost.length > 1 ? strings.takenMany : strings.taken, { seat: lost.join(", ") }));
      renderSelection();
    }
    if (focused && focused.classList && focused.classList.contains("seat-input") && focused.disabled) {
      /* The seat in focus was just taken: move to its neighbour, never drop focus to the page. */
      var next = move(focused, 1, 0) || move(focused, -1, 0) || firstStop();
      setRoving(next);
      if (next) { next.focus(); }
    } else if (!inputs.some(function (i) { return i.tabIndex === 0 && !i.disabled; })) {
      setRoving(firstStop());
    }
  }
  var delay = config.pollMs;
  var pushed = false;  /* an EventSource is open: poll only now and then, to be safe */
  var timer = null;
  function schedule(ms) { window.clearTimeout(timer); timer = window.setTimeout(poll, ms); }
  function poll() {
    if (!polling) { return; }
    if (document.hidden) { schedule(config.pollMs); return; }
    fetch(config.seatsUrl, { cache: "no-store", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 404) { polling = false; return null; }  /* the screening is gone */
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (data) {
        delay = pushed ? config.pushedPollMs : config.pollMs;
        if (data && data.seats) { apply(data.seats); }
      })
      .catch(function () { delay = Math.min(delay * 2, 60000); /* server or network trouble: back off */ })
      .then(function () { if (polling) { schedule(delay); } });
  }
  schedule(config.pollMs);

  /* Pushed statuses: {"seats": {id: status}} applied as a poll's are; {"hello"} (just
     connected) or {"refetch"} (changes were missed) fetch the map once. When the connection
     fails the map polls at the usual rate; refused (no push server), it tries again later. */
  function listen() {
    if (!config.pushUrl || !window.EventSource) { return; }
    var source = new EventSource(config.pushUrl);
    source.onopen = function () { pushed = true; map.setAttribute("data-live", "push"); };
    source.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!polling || !data) { return; }
      if (data.seats) {
        apply(Object.keys(data.seats).map(function (id) { return { id: id, status: data.seats[id] }; }));
      } else if (data.hello) {
        schedule(0);
      } else if (data.refetch) {
        schedule(Math.floor(Math.random() * 1000));  /* spread the viewers' fetches */
      }
    };
    source.onerror = function () {
      if (pushed) { pushed = false; map.setAttribute("data-live", "poll"); schedule(config.pollMs); }
      if (source.readyState === 2) {  /* CLOSED: refused, the browser will not retry */
        map.setAttribute("data-live", "poll");
        window.setTimeout(listen, 60000);
      }
    };
  }
  listen();

  renderSelection();
  var error = document.getElementById("hold-error");
  if (error) { error.focus(); }
})();
