/* The door page (templates/staff/door.html): scan with the camera or type a code, check it in,
   show the answer full screen in colour, in words and with a sound; offline, check signed codes
   on the device and send the scans when the network returns. Logic in door-core.js. */
(function () {
  "use strict";

  var core = window.MarqueeDoorCore;
  var configNode = document.getElementById("door-config");
  if (!core || !configNode) return;
  var config = JSON.parse(configNode.textContent);

  var REPEAT_MS = 4000;        // the same QR seen again within this is the same scan
  var REFRESH_MS = 60000;      // keys and the ticket list are kept fresh this often
  var SYNC_MS = 15000;         // waiting scans are retried this often
  var SYNC_BATCH = 200;        // scans a sync sends (the server takes at most SYNC_MAX_SCANS, 500)
  var SHOW_OK_MS = 2500;       // an admission is shown this long
  var SHOW_BAD_MS = 6000;      // a refusal this long (or until tapped)

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    screening: $("door-screening"), door: $("door-name"), form: $("door-form"), code: $("door-code"),
    video: $("door-video"), cameraStatus: $("door-camera-status"), cameraToggle: $("door-camera-toggle"),
    result: $("door-result"), resultWord: $("door-result-word"), resultReason: $("door-result-reason"),
    resultDetail: $("door-result-detail"), resultTicket: $("door-result-ticket"), announce: $("door-announce"), banner: $("door-banner"),
    conflicts: $("door-conflicts"), conflictList: $("door-conflict-list"), conflictsClose: $("door-conflicts-close"),
    cache: $("door-cache"), keyForm: $("door-key-form"), keyInput: $("door-key"), keyState: $("door-key-state"),
    keyForget: $("door-key-forget"), noScreening: $("door-no-screening"),
  };

  var LATE_ARRIVALS_MS = 20 * 60000; // as ticketing/staff/door.py: a screening just started is still the one
  var screenings = {};
  config.screenings.forEach(function (s) { screenings[s.id] = s; });
  var state = {
    screening: config.screening, busy: false, lastSeen: {}, hideTimer: null, stream: null,
    detector: null, scanning: false, online: navigator.onLine, conflicts: [],
  };

  // --- small things ----------------------------------------------------------------------------
  function zone() {
    var s = screenings[state.screening];
    return (s && s.time_zone) || undefined;
  }

  function clock(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return "";
    try {
      return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone() }).format(d);
    } catch (e) {
      return d.toTimeString().slice(0, 5);
    }
  }

  function clockOf(iso, timeZone) {
    try {
      return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: timeZone || undefined }).format(new Date(iso));
    } catch (e) {
      return "";
    }
  }

  function doorName() {
    return (ui.door.value || "").trim() || "Door";
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("#door-csrf input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // A scan waits this long for the server, then is decided on the device (a lobby wifi that is
  // connected but reaches nothing never answers): shorter once the server is known unreachable.
  // A scan the server did get is not counted twice: its nonce goes with it into the queue.
  var SCAN_TIMEOUT_MS = 5000;
  var SCAN_TIMEOUT_OFFLINE_MS = 2000;

  function api(method, path, body, timeoutMs) {
    var headers = { Accept: "application/json" };
    var key = core.store.scannerKey();
    if (key) headers.Authorization = "Bearer " + key;
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrfToken();
    }
    var abort = window.AbortController && timeoutMs ? new AbortController() : null;
    var timer = abort ? window.setTimeout(function () { abort.abort(); }, timeoutMs) : null;
    return fetch(config.api + path, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort ? abort.signal : undefined,
    }).then(function (response) {
      window.clearTimeout(timer);
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, data: data };
      });
    });
  }

  // No answer to go by: fetch threw (no network), or the server or a proxy in front of it failed
  // (5xx). The door then decides on the device, and the server has the last word later.
  function unreachable(answer) {
    return !answer || answer.status === 0 || answer.status >= 500;
  }

  // --- sound: one high beep to admit, two low ones to refuse (WebAudio, no files) ----------------
  var audio = null;
  function audioContext() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      try { audio = new Ctx(); } catch (e) { return null; }
    }
    if (audio.state === "suspended" && audio.resume) audio.resume().catch(function () {});
    return audio;
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function () { audioContext(); }, { passive: true });
  });

  function beep(kind) {
    var ctx = audioContext();
    if (!ctx) return;
    var tones = kind === "admitted" ? [[880, 0, 0.18]] : [[220, 0, 0.16], [220, 0.24, 0.16]];
    try {
      tones.forEach(function (tone) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = kind === "admitted" ? "sine" : "square";
        osc.frequency.value = tone[0];
        var start = ctx.currentTime + tone[1];
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.3, start + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + tone[2]);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + tone[2] + 0.02);
      });
    } catch (e) { /* no sound: the colour and the words remain */ }
  }

  // --- the answer, full screen -------------------------------------------------------------------
  var REASONS = {
    ticket_other_screening: ["Wrong screening", "This ticket is for another screening."],
    other_screening: ["Wrong screening", "This ticket is for another screening."],
    ticket_refunded: ["Refunded", "This ticket was refunded: it is no longer valid."],
    refunded: ["Refunded", "This ticket was refunded: it is no longer valid."],
    ticket_cancelled: ["Cancelled", "This ticket was cancelled: it is no longer valid."],
    cancelled: ["Cancelled", "This ticket was cancelled: it is no longer valid."],
    ticket_unknown: ["Unknown ticket", "No ticket has this code."],
    ticket_code_invalid: ["Invalid code", "This is not a Marquee ticket code."],
    invalid_code: ["Invalid code", "This is not a Marquee ticket code."],
    invalid_signature: ["Invalid signature", "This code was not signed by Marquee: it was altered or forged."],
    checkin_not_open: ["Not open yet", "Check-in for this screening has not opened yet."],
    old_code: ["Cannot check offline", "This is an old ticket code: it can only be checked with the network."],
    cannot_verify: ["Cannot verify offline", "This device cannot check the signature without the network."],
    not_signed_in: ["Not signed in", "Sign in again (or set a scanner key) to check tickets."],
    key_refused: ["Scanner key refused", "This device's scanner key is not valid any more: ask a manager for a new one."],
    throttled: ["Too many scans", "This device sent too many scans at once: wait a few seconds and scan again."],
    no_screening: ["No screening chosen", "Choose the screening at this door first."],
    nonce_reused: ["Cannot check in", "This scan was sent twice with different codes: scan the ticket again."],
  };

  function show(kind, word, reason, detail, ticketLine) {
    clearTimeout(state.hideTimer);
    ui.result.className = "door-result door-result-" + kind;
    ui.result.dataset.kind = kind;
    ui.resultWord.textContent = word;
    ui.resultReason.textContent = reason || "";
    ui.resultDetail.textContent = detail || "";
    ui.resultTicket.textContent = ticketLine || "";
    ui.result.hidden = false;
    // Spoken once: the live region is always in the page, its text changes.
    ui.announce.textContent = "";
    window.setTimeout(function () {
      ui.announce.textContent = [word, reason, detail, ticketLine].filter(Boolean).join(". ");
    }, 30);
    beep(kind === "admitted" ? "admitted" : "refused");
    state.hideTimer = window.setTimeout(hide, kind === "admitted" ? SHOW_OK_MS : SHOW_BAD_MS);
  }

  function hide() {
    clearTimeout(state.hideTimer);
    ui.result.hidden = true;
    keepFocus();
  }

  function ticketWords(ticket) {
    if (!ticket) return "";
    return [ticket.seat ? "Seat " + ticket.seat : "", ticket.type || ""].filter(Boolean).join(" · ");
  }

  function showAdmitted(ticket, offline, unlisted) {
    var detail = "";
    if (offline) {
      detail = "Offline: kept on this device, sent when the network returns." +
        (unlisted ? " (Sold after this device kept its list: the server will confirm.)" : "");
    }
    show("admitted", "Admitted", ticketWords(ticket), detail);
  }

  function showAlready(at, door, here) {
    // "Admitted at 19:42 at Door 2": when and where the ticket went in first.
    var when = [at ? "at " + clock(at) : "", door ? "at " + door : ""].filter(Boolean).join(" ");
    var reason = (here ? "Admitted on this device" : "Admitted") + (when ? " " + when : " before");
    show("already", "Already admitted", reason, "Each ticket is admitted once.");
  }

  function showRefused(code, message, ticket, details) {
    var words = REASONS[code] || ["Cannot check in", message || "Something went wrong: try again."];
    var more = words[1];
    details = details || {};
    if (details.screening && details.screening.film) {
      var other = details.screening;
      more = "This ticket is for " + other.film + " at " + clock(other.starts_at) +
        (other.auditorium ? " (" + other.auditorium + ")" : "") + ".";
    } else if (details.doors_open_at) {
      more = "The doors open at " + clock(details.doors_open_at) + ".";
    }
    show("refused", "Refused", words[0], more, ticketWords(ticket));
  }

  // --- checking a code ---------------------------------------------------------------------------
  // One scan at a time, in the order they came (camera and typed alike).
  var chain = Promise.resolve();
  var pending = 0;
  function check(raw) {
    pending += 1;
    state.busy = true;
    chain = chain.then(function () { return handle(raw); }).catch(function () {}).then(function () {
      pending -= 1;
      state.busy = pending > 0;
    });
    return chain;
  }

  function handle(raw) {
    var parsed = core.parseCode(raw);
    if (parsed.kind === "empty") return Promise.resolve();
    if (!state.screening) {
      showRefused("no_screening");
      return Promise.resolve();
    }
    var scan = {
      code: parsed.text, screening: state.screening, door: doorName(), nonce: core.nonce(),
      scanned_at: new Date().toISOString(),
    };
    var attempt = navigator.onLine
      ? api("POST", "", scan, state.online ? SCAN_TIMEOUT_MS : SCAN_TIMEOUT_OFFLINE_MS).catch(function () { return null; })
      : Promise.resolve(null);
    return attempt.then(function (answer) {
      if (unreachable(answer)) return offline(parsed, scan);
      setOnline(true);
      return online(parsed, scan, answer);
    }).catch(function (error) {
      showRefused("", String(error && error.message || error));
    }).then(function () {
      keepFocus();
    });
  }

  function online(parsed, scan, answer) {
    var data = answer.data || {};
    if (answer.status === 200 && data.result === "admitted") {
      if (parsed.kind === "signed") core.store.markAdmitted(scan.screening, parsed.ticket, data.admitted_at, data.door);
      showAdmitted(data.ticket);
      return;
    }
    var error = data.error || {};
    var details = error.details || {};
    if (error.code === "already_checked_in") {
      showAlready(details.admitted_at, details.door, false);
      return;
    }
    if (error.code === "unauthenticated") {
      showRefused(core.store.scannerKey() ? "key_refused" : "not_signed_in");
      return;
    }
    var ticket = parsed.kind === "signed" ? listed(scan.screening, parsed.ticket) : null;
    showRefused(error.code, error.message, ticket, details);
  }

  function listed(screeningId, code) {
    var list = core.store.list(screeningId);
    return (list && list.tickets[code]) || null;
  }

  function offline(parsed, scan) {
    setOnline(false);
    return core.decideOffline(parsed, scan.screening, scan.door, screenings[scan.screening]).then(function (decision) {
      if (decision.outcome === "admitted") {
        core.store.enqueue({
          code: scan.code, screening: scan.screening, door: scan.door, nonce: scan.nonce,
          scanned_at: scan.scanned_at,
        });
        showAdmitted(decision.ticket, true, decision.unlisted);
      } else if (decision.outcome === "already") {
        showAlready(decision.at, decision.door, decision.here);
      } else {
        showRefused(decision.reason, "", decision.ticket, decision.details);
      }
      showBanner();
    });
  }

  // --- offline: the banner, the queue, keeping the keys and list ----------------------------------
  function setOnline(isOnline) {
    if (state.online !== isOnline) {
      state.online = isOnline;
      showBanner();
    }
  }

  function showBanner() {
    var waiting = core.store.queue().length;
    var text = "";
    if (!state.online || !navigator.onLine) {
      text = "Offline: " + waiting + (waiting === 1 ? " scan" : " scans") + " waiting";
    } else if (waiting) {
      text = "Sending " + waiting + (waiting === 1 ? " scan" : " scans") + " made offline…";
    }
    ui.banner.textContent = text;
    ui.banner.hidden = !text;
    document.body.classList.toggle("door-offline", !state.online || !navigator.onLine);
  }

  var syncing = null;
  function sync() {
    var queue = core.store.queue();
    if (!queue.length || !navigator.onLine) return Promise.resolve();
    if (syncing) return syncing;
    // A long queue goes in batches: sent whole, more than the server takes was refused every
    // time, and the device kept its scans for ever.
    var more = queue.length > SYNC_BATCH;
    queue = queue.slice(0, SYNC_BATCH);
    syncing = api("POST", "sync/", { scans: queue }, 30000).catch(function () { return null; }).then(function (answer) {
      if (unreachable(answer)) { setOnline(false); return; }
      setOnline(true);
      if (answer.status !== 200 || !answer.data || !answer.data.results) {
        var message = answer.data && answer.data.error ? answer.data.error.message : "";
        ui.banner.textContent = "Could not send the " + queue.length + " waiting scans" + (message ? ": " + message : "") + ". They are kept.";
        ui.banner.hidden = false;
        return;
      }
      var done = [];
      var byNonce = {};
      queue.forEach(function (scan) { byNonce[scan.nonce] = scan; });
      answer.data.results.forEach(function (r) {
        done.push(r.nonce);
        if (r.error) state.conflicts.push({ scan: byNonce[r.nonce] || {}, error: r.error });
      });
      core.store.dequeue(done);
      showConflicts();
      return refresh().then(function () { return done.length > 0 && more; });
    }).then(function (next) {
      syncing = null;
      showBanner();
      if (next) window.setTimeout(sync, 1000);
    }, function () {
      syncing = null;
      showBanner();
    });
    return syncing;
  }

  function showConflicts() {
    if (!state.conflicts.length) { ui.conflicts.hidden = true; return; }
    ui.conflictList.textContent = "";
    state.conflicts.forEach(function (c) {
      var item = document.createElement("li");
      var parsed = core.parseCode(c.scan.code);
      var ticket = parsed.kind === "signed" ? listed(c.scan.screening, parsed.ticket) : null;
      var who = ticket && ticket.seat ? "Seat " + ticket.seat : "A ticket";
      var details = c.error.details || {};
      var what;
      if (c.error.code === "already_checked_in") {
        what = "was already admitted" + (details.admitted_at ? " at " + clock(details.admitted_at) : "") +
          (details.door ? " at " + details.door : "") + ", before this device's offline scan at " + clock(c.scan.scanned_at) + ".";
      } else {
        what = "scanned offline at " + clock(c.scan.scanned_at) + " was refused: " +
          ((REASONS[c.error.code] || [c.error.message || c.error.code])[0]) + ".";
      }
      item.textContent = who + " " + what;
      ui.conflictList.appendChild(item);
    });
    ui.conflicts.hidden = false;
  }

  function refresh() {
    var id = state.screening;
    var keys = api("GET", "keys/", undefined, 15000).then(function (answer) {
      if (answer.status === 200 && answer.data && answer.data.keys) core.store.setKeys(answer.data);
      return answer;
    });
    var list = id ? api("GET", "screenings/" + id + "/tickets/", undefined, 15000).then(function (answer) {
      if (answer.status === 200 && answer.data && answer.data.tickets) core.store.setList(id, answer.data);
      return answer;
    }) : Promise.resolve(null);
    return Promise.all([keys, list]).then(function (answers) {
      setOnline(true);
      var failed = answers.filter(function (a) { return a && a.status !== 200; })[0];
      showCache(failed);
    }, function () {
      setOnline(false);
      showCache();
    });
  }

  function showCache(failed) {
    var list = state.screening ? core.store.list(state.screening) : null;
    var keys = core.store.keys().keys.length;
    var words;
    if (list) {
      var count = Object.keys(list.tickets).length;
      words = "Kept for offline: " + count + (count === 1 ? " ticket" : " tickets") + " of this screening, " +
        keys + (keys === 1 ? " key" : " keys") + ", updated at " + clock(list.fetched_at) + ".";
    } else {
      words = "Nothing kept for offline yet: signed tickets can still be checked once the keys are kept.";
    }
    if (failed && (failed.status === 401 || failed.status === 403)) {
      words += " The server refused to send the list (" + failed.status + "): sign in again or check the scanner key.";
    }
    ui.cache.textContent = words;
  }

  // --- a scanner device: the screenings of its key's cinema, from the API -----------------------
  function pickNow(list) {
    var now = Date.now();
    for (var i = 0; i < list.length; i++) {
      if (Date.parse(list[i].starts_at) > now - LATE_ARRIVALS_MS) return list[i];
    }
    return list.length ? list[list.length - 1] : null;
  }

  function setScreenings(list) {
    screenings = {};
    list.forEach(function (s) { screenings[s.id] = s; });
    var keep = screenings[state.screening] ? state.screening : null;
    var chosen = keep ? screenings[keep] : pickNow(list);
    state.screening = chosen ? chosen.id : null;
    ui.screening.textContent = "";
    list.forEach(function (s) {
      var option = document.createElement("option");
      option.value = s.id;
      option.textContent = clockOf(s.starts_at, s.time_zone) + " " + s.film + " · " + s.auditorium +
        (s.cinema ? " · " + s.cinema : "");
      option.selected = s.id === state.screening;
      ui.screening.appendChild(option);
    });
    ui.screening.hidden = !list.length;
    ui.noScreening.hidden = !!list.length;
    if (!list.length) {
      ui.noScreening.textContent = core.store.scannerKey()
        ? "No screenings today at this scanner's cinema."
        : "No screenings yet: set this device's scanner key below.";
    }
  }

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  function loadScreenings() {
    if (!config.device) return Promise.resolve();
    if (!core.store.scannerKey()) { setScreenings([]); return Promise.resolve(); }
    var kept = core.store.screenings();
    if (kept && kept.day === today()) setScreenings(kept.results);
    if (!navigator.onLine) return Promise.resolve();
    return api("GET", "screenings/", undefined, 15000).then(function (answer) {
      if (answer.status === 200 && answer.data && answer.data.results) {
        core.store.setScreenings({ day: today(), results: answer.data.results });
        setScreenings(answer.data.results);
      } else if (answer.status === 401 || answer.status === 403) {
        setScreenings([]);
        ui.noScreening.textContent = "The scanner key was refused: check it, or ask a manager for a new one.";
      }
    }, function () { setOnline(false); });
  }

  // --- the camera -------------------------------------------------------------------------------
  function loadPonyfill() {
    if (window.BarcodeDetectionAPI) return Promise.resolve(window.BarcodeDetectionAPI);
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = config.ponyfill;
      script.onload = function () { resolve(window.BarcodeDetectionAPI); };
      script.onerror = function () { reject(new Error("The QR reader did not load.")); };
      document.head.appendChild(script);
    });
  }

  function makeDetector() {
    var native = "BarcodeDetector" in window
      ? window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      }).catch(function () { return null; })
      : Promise.resolve(null);
    return native.then(function (detector) {
      if (detector) return detector;
      return loadPonyfill().then(function (api) {
        // The WebAssembly reader from our static files, never from a CDN.
        api.prepareZXingModule({
          overrides: {
            locateFile: function (path, prefix) {
              return /\.wasm$/.test(path) ? config.wasm : prefix + path;
            },
          },
          fireImmediately: true,
        });
        return new api.BarcodeDetector({ formats: ["qr_code"] });
      });
    });
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage("No camera on this device: type codes or use a hardware scanner.");
      return;
    }
    cameraMessage("Starting the camera…");
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    }).then(function (stream) {
      state.stream = stream;
      ui.video.srcObject = stream;
      return ui.video.play().catch(function () {}).then(function () {
        return state.detector || makeDetector().then(function (d) { state.detector = d; });
      });
    }).then(function () {
      if (!state.stream) return;
      state.scanning = true;
      ui.cameraToggle.textContent = "Camera off";
      ui.cameraToggle.setAttribute("aria-pressed", "true");
      cameraMessage("Hold the ticket's QR code in the frame.");
      ui.video.parentNode.classList.add("door-camera-on");
      tick();
    }).catch(function (error) {
      stopCamera();
      var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      cameraMessage(denied
        ? "The camera is not allowed: allow it in the browser's settings, or type codes."
        : "No camera (" + ((error && (error.message || error.name)) || "unavailable") + "): type codes or use a hardware scanner.");
    });
  }

  function stopCamera() {
    state.scanning = false;
    if (state.stream) state.stream.getTracks().forEach(function (t) { t.stop(); });
    state.stream = null;
    ui.video.srcObject = null;
    ui.video.parentNode.classList.remove("door-camera-on");
    ui.cameraToggle.textContent = "Camera on";
    ui.cameraToggle.setAttribute("aria-pressed", "false");
  }

  function cameraMessage(text) {
    ui.cameraStatus.textContent = text;
  }

  function tick() {
    if (!state.scanning) return;
    var again = function () { window.setTimeout(tick, 150); };
    if (state.busy || ui.video.readyState < 2 || document.hidden) { again(); return; }
    state.detector.detect(ui.video).then(function (codes) {
      var now = Date.now();
      codes.forEach(function (code) {
        var raw = code.rawValue;
        if (!raw) return;
        var seen = state.lastSeen[raw];
        // Still in the frame (seen in the last few seconds): the same scan, not a new one.
        if (seen && now - seen < REPEAT_MS) { state.lastSeen[raw] = now; return; }
        if (state.busy) return; // another scan is being checked: read this one next frame
        state.lastSeen[raw] = now;
        check(raw);
      });
    }).catch(function () { /* a frame the reader could not take: the next one */ }).then(again);
  }

  // --- the page ---------------------------------------------------------------------------------
  function keepFocus() {
    // A hardware scanner types into the code field: it keeps the focus, unless staff are
    // using another control.
    var active = document.activeElement;
    if (active && active !== document.body && active !== ui.code && active !== ui.result && active.id !== "main") return;
    ui.code.focus({ preventScroll: true });
  }

  // Typed codes are checked one after the other: a hardware scanner may type the next before the
  // answer to the last one is in. The field is emptied at once for it.
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = ui.code.value;
    ui.code.value = "";
    if (value.trim()) check(value);
  });

  // Tapping the answer dismisses it; the code seen last may then be scanned again.
  ui.result.addEventListener("click", function () {
    state.lastSeen = {};
    hide();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !ui.result.hidden) { state.lastSeen = {}; hide(); }
  });

  ui.cameraToggle.addEventListener("click", function () {
    if (state.stream) { stopCamera(); cameraMessage("The camera is off: type codes or use a hardware scanner."); }
    else startCamera();
  });

  if (ui.screening) {
    ui.screening.addEventListener("change", function () {
      state.screening = parseInt(ui.screening.value, 10) || null;
      var url = new URL(window.location.href);
      url.searchParams.set("screening", state.screening);
      window.history.replaceState(null, "", url.toString());
      showCache();
      refresh();
    });
  }

  ui.door.value = core.store.door() || ui.door.value;
  ui.door.addEventListener("change", function () { core.store.setDoor(ui.door.value.trim()); });

  function showKey() {
    var key = core.store.scannerKey();
    ui.keyState.textContent = key
      ? "This device checks tickets with a scanner key (…" + key.slice(-4) + ")."
      : config.device
        ? "No scanner key on this device yet."
        : "This device checks tickets as " + config.user + ".";
    ui.keyForget.hidden = !key;
  }
  ui.keyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var key = ui.keyInput.value.trim();
    if (!key) return;
    core.store.setScannerKey(key);
    ui.keyInput.value = "";
    showKey();
    loadScreenings().then(refresh);
  });
  ui.keyForget.addEventListener("click", function () {
    core.store.setScannerKey("");
    showKey();
    loadScreenings().then(refresh);
  });

  ui.conflictsClose.addEventListener("click", function () {
    state.conflicts = [];
    showConflicts();
    keepFocus();
  });

  window.addEventListener("online", function () { state.online = true; showBanner(); refresh(); sync(); });
  window.addEventListener("offline", function () { setOnline(false); });

  // Signing out on a shared phone: the kept copy of this page (with the member's screenings)
  // goes; scans still waiting are said first, as they are sent only from this device.
  var signOut = document.querySelector(".staff-signout");
  if (signOut) {
    signOut.addEventListener("submit", function (event) {
      var waiting = core.store.queue().length;
      if (waiting && !window.confirm(waiting + (waiting === 1 ? " scan made offline is" : " scans made offline are") +
          " still waiting to be sent. They stay on this phone and are sent when someone opens the door page again. Sign out?")) {
        event.preventDefault();
        return;
      }
      if (!window.caches || signOut.dataset.cleared) return;
      event.preventDefault();
      window.caches.delete("marquee-door-v1").catch(function () {}).then(function () {
        signOut.dataset.cleared = "1";
        signOut.submit();
      });
    });
  }

  if ("serviceWorker" in navigator && config.service_worker) {
    navigator.serviceWorker.register(config.service_worker, { scope: "/staff/door/" }).catch(function () {});
  }

  showKey();
  showCache();
  showBanner();
  loadScreenings().then(refresh).then(sync);
  window.setInterval(function () { if (navigator.onLine) loadScreenings().then(refresh); }, REFRESH_MS);
  window.setInterval(sync, SYNC_MS);
  startCamera();
  keepFocus();
})();
