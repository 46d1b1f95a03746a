/* The door's logic without the page (templates/staff/door.html, door.js): reading a ticket's QR
   content, checking a signed code without the network (Ed25519 through WebCrypto), and what the
   device keeps (public keys, each screening's ticket list, the tickets it admitted, the scans
   waiting to be sent). Exposed as window.MarqueeDoorCore.

   QR content: `MQ2:<kid>.<body>.<sig>`, body = base64url JSON {"t": ticket code, "s": screening
   id}, sig = base64url Ed25519 signature of the ASCII `<kid>.<body>`. Old codes `MQT:<code>` are
   checked online only. */
(function () {
  "use strict";

  var PREFIX = "mq-door:";
  var SIGNED = "MQ2:";
  var OLD = "MQT:";

  // --- base64url ------------------------------------------------------------------------------
  function b64urlBytes(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    try {
      var raw = atob(b64);
      var bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return bytes;
    } catch (e) {
      return null;
    }
  }

  function ascii(text) {
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    return bytes;
  }

  // --- codes ----------------------------------------------------------------------------------
  /* What a scanned or typed text is:
     {kind: "signed", text, kid, signed (the ASCII signed), sig (bytes), ticket, screening}
     {kind: "old", text, ticket}      an MQT: code (online only)
     {kind: "invalid", text}          neither (or a signed code that cannot be read) */
  function parseCode(raw) {
    var text = String(raw || "").trim();
    if (!text) return { kind: "empty", text: text };
    if (text.slice(0, 4).toUpperCase() === SIGNED) {
      text = SIGNED + text.slice(4);
      var parts = text.slice(4).split(".");
      if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return { kind: "invalid", text: text };
      var sig = b64urlBytes(parts[2]);
      if (!sig || !/^[A-Za-z0-9_-]+$/.test(parts[0])) return { kind: "invalid", text: text };
      // The body is read here but trusted only once the signature is checked: an altered body
      // is "invalid signature", not "invalid code".
      var payload = null;
      var body = b64urlBytes(parts[1]);
      try {
        payload = body && JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch (e) {
        payload = null;
      }
      var readable = !!payload && typeof payload.t === "string" && typeof payload.s === "number";
      return {
        kind: "signed", text: text, kid: parts[0], signed: parts[0] + "." + parts[1], sig: sig,
        readable: readable, ticket: readable ? payload.t : null, screening: readable ? payload.s : null,
      };
    }
    if (text.slice(0, 4).toUpperCase() === OLD) {
      return { kind: "old", text: OLD + text.slice(4), ticket: text.slice(4) };
    }
    // A bare ticket code, typed from a print-out: sent as the old form.
    if (/^[A-Za-z0-9_-]{6,64}$/.test(text)) return { kind: "old", text: OLD + text, ticket: text };
    return { kind: "invalid", text: text };
  }

  // --- signatures -----------------------------------------------------------------------------
  var keyCache = {};

  /* "valid" | "invalid" | "unknown_key" | "unsupported" (no Ed25519 in this browser). */
  function verifySigned(parsed, keys) {
    var entry = (keys || []).filter(function (k) { return k.kid === parsed.kid; })[0];
    if (!entry) return Promise.resolve("unknown_key");
    if (!window.crypto || !window.crypto.subtle) return Promise.resolve("unsupported");
    var raw = b64urlBytes(entry.public_key);
    if (!raw || raw.length !== 32) return Promise.resolve("unknown_key");
    var cacheKey = entry.kid + ":" + entry.public_key;
    var imported = keyCache[cacheKey] || (keyCache[cacheKey] = crypto.subtle.importKey(
      "raw", raw, { name: "Ed25519" }, false, ["verify"]));
    return imported.then(function (key) {
      return crypto.subtle.verify({ name: "Ed25519" }, key, parsed.sig, ascii(parsed.signed))
        .then(function (ok) { return ok ? "valid" : "invalid"; });
    }, function () {
      delete keyCache[cacheKey];
      return "unsupported";
    });
  }

  // --- what the device keeps ------------------------------------------------------------------
  function load(name, fallback) {
    try {
      var value = window.localStorage.getItem(PREFIX + name);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(name, value) {
    try {
      if (value === null || value === undefined) window.localStorage.removeItem(PREFIX + name);
      else window.localStorage.setItem(PREFIX + name, JSON.stringify(value));
      return true;
    } catch (e) {
      return false;
    }
  }

  var store = {
    keys: function () { return load("keys", { keys: [], fetched_at: null }); },
    setKeys: function (answer) {
      save("keys", { keys: answer.keys || [], fetched_at: new Date().toISOString() });
    },
    /* {screening, generated_at, fetched_at, tickets: {code: {seat, type, status, admitted_at, door}}} */
    list: function (screeningId) { return load("tickets:" + screeningId, null); },
    setList: function (screeningId, answer) {
      var tickets = {};
      (answer.tickets || []).forEach(function (t) { tickets[t.t] = t; });
      save("tickets:" + screeningId, {
        screening: answer.screening || null, generated_at: answer.generated_at || null,
        fetched_at: new Date().toISOString(), tickets: tickets,
      });
      store.prune();
    },
    /* Mark a ticket admitted in the kept list (an online admission, so an offline scan after it
       knows). */
    markAdmitted: function (screeningId, code, admittedAt, door) {
      var list = store.list(screeningId);
      if (!list || !list.tickets[code]) return;
      list.tickets[code].admitted_at = admittedAt;
      list.tickets[code].door = door;
      save("tickets:" + screeningId, list);
    },
    /* The tickets this device admitted offline, by screening: {code: {at, door}}. */
    localAdmits: function (screeningId) { return load("admitted:" + screeningId, {}); },
    addLocalAdmit: function (screeningId, code, at, door) {
      var admits = store.localAdmits(screeningId);
      admits[code] = { at: at, door: door };
      save("admitted:" + screeningId, admits);
    },
    queue: function () { return load("queue", []); },
    enqueue: function (scan) {
      var queue = store.queue();
      if (!queue.some(function (q) { return q.nonce === scan.nonce; })) queue.push(scan);
      save("queue", queue);
      return queue.length;
    },
    dequeue: function (nonces) {
      var gone = {};
      nonces.forEach(function (n) { gone[n] = true; });
      var left = store.queue().filter(function (q) { return !gone[q.nonce]; });
      save("queue", left);
      return left.length;
    },
    /* A scanner device's screenings of the day: {day, results}. */
    screenings: function () { return load("screenings", null); },
    setScreenings: function (value) { save("screenings", value); },
    door: function () { return load("door", ""); },
    setDoor: function (name) { save("door", name); },
    scannerKey: function () { return load("scanner-key", ""); },
    setScannerKey: function (key) { save("scanner-key", key || null); },
    /* Lists and offline admissions of screenings more than two days old are dropped. */
    prune: function () {
      var limit = Date.now() - 2 * 24 * 3600 * 1000;
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var name = window.localStorage.key(i);
          if (!name || name.indexOf(PREFIX + "tickets:") !== 0) continue;
          var list = load(name.slice(PREFIX.length), null);
          if (list && list.fetched_at && Date.parse(list.fetched_at) < limit) {
            var id = name.slice((PREFIX + "tickets:").length);
            save("tickets:" + id, null);
            save("admitted:" + id, null);
          }
        }
      } catch (e) { /* storage unavailable: nothing kept */ }
    },
  };

  function nonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /* The offline decision for a scan at `screeningId`. Resolves to
     {outcome: "admitted", ticket} | {outcome: "already", at, door, here (this device)} |
     {outcome: "refused", reason} with reason one of: invalid_code, invalid_signature,
     other_screening, checkin_not_open, refunded, cancelled, old_code, cannot_verify. */
  function decideOffline(parsed, screeningId, door, screening) {
    if (parsed.kind === "old") return Promise.resolve({ outcome: "refused", reason: "old_code" });
    if (parsed.kind !== "signed") return Promise.resolve({ outcome: "refused", reason: "invalid_code" });
    return verifySigned(parsed, store.keys().keys).then(function (check) {
      if (check === "invalid") return { outcome: "refused", reason: "invalid_signature" };
      if (check !== "valid") return { outcome: "refused", reason: "cannot_verify" };
      if (!parsed.readable) return { outcome: "refused", reason: "invalid_code" };
      if (parsed.screening !== screeningId) return { outcome: "refused", reason: "other_screening" };
      if (screening && screening.doors_open_at && Date.now() < Date.parse(screening.doors_open_at)) {
        return { outcome: "refused", reason: "checkin_not_open", details: { doors_open_at: screening.doors_open_at } };
      }
      var list = store.list(screeningId);
      var ticket = list && list.tickets[parsed.ticket];
      if (ticket && ticket.status === "refunded") return { outcome: "refused", reason: "refunded", ticket: ticket };
      if (ticket && ticket.status === "cancelled") return { outcome: "refused", reason: "cancelled", ticket: ticket };
      var mine = store.localAdmits(screeningId)[parsed.ticket];
      if (mine) return { outcome: "already", at: mine.at, door: mine.door, here: true, ticket: ticket };
      if (ticket && ticket.admitted_at) {
        return { outcome: "already", at: ticket.admitted_at, door: ticket.door, here: false, ticket: ticket };
      }
      var at = new Date().toISOString();
      store.addLocalAdmit(screeningId, parsed.ticket, at, door);
      // A ticket sold after the list was kept is not on it: its signature is the server's, so
      // it is admitted, and the server has the last word when the scan is sent.
      return { outcome: "admitted", at: at, ticket: ticket || null, unlisted: !ticket };
    });
  }

  window.MarqueeDoorCore = {
    parseCode: parseCode,
    verifySigned: verifySigned,
    decideOffline: decideOffline,
    b64urlBytes: b64urlBytes,
    store: store,
    nonce: nonce,
  };
})();
