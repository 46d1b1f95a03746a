// The cancellation page: refresh the counts from progress.json every few seconds until the run
// is finished; the page works without it (the reload link). No framework, no inline script.
(function () {
  "use strict";
  var box = document.getElementById("cancel-progress");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-progress-url");
  var every = 2000;

  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function set(name, value) { var el = field(name); if (el) el.textContent = String(value); }

  function show(p) {
    ["refunded", "cancelled", "already", "failed", "left", "total"].forEach(function (k) { set(k, p[k]); });
    var bar = field("bar");
    if (bar) { bar.max = Math.max(p.total, 1); bar.value = p.settled; bar.textContent = p.percent + "%"; }
    var status;
    if (p.left) status = "Refunding… " + p.percent + "% done.";
    else if (p.failed) status = "Finished: " + p.failed + " refund(s) failed, see below.";
    else status = "Finished: every order is settled.";
    set("status", status);
    // Done: reload once, so the list of failed refunds (a server-rendered table with its retry
    // buttons) is the real one. The reloaded page has nothing left and does not poll.
    if (!p.left) {
      window.location.reload();
      return false;
    }
    return true;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) { if (show(p)) window.setTimeout(poll, every); })
      .catch(function () { window.setTimeout(poll, every * 3); });
  }

  if (box.getAttribute("data-finished") === "0") {
    var reload = field("reload");
    if (reload) reload.hidden = true;
    window.setTimeout(poll, every);
  }
})();
