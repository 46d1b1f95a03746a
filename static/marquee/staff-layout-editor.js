/* The staff seat-layout editor (templates/staff/layout_editor.html).

   It edits the text-grid notation of ticketing/screenings/layouts.py, one character per cell
   (s p w c < > standard, premium, wheelchair, companion, couple halves; x P W C [ ] blocked;
   . an aisle or gap), and keeps the text beside it in step: the server parses that text when
   saving, so the text stays the source of truth. Rows are lettered and seats numbered as the
   notation does: rows with seats A, B, C... from the front (unless they carry a label), seats
   from 1, left to right, skipping gaps.

   Without this script the page is the text grid and a Save button, and still works. */
(function () {
  "use strict";
  var root = document.querySelector("[data-layout-editor]");
  var form = document.querySelector("[data-layout-form]");
  var configEl = document.getElementById("layout-config");
  if (!root || !form || !configEl) { return; }
  var config = JSON.parse(configEl.textContent);
  var grid = root.querySelector("[data-grid]");
  var countsEl = root.querySelector("[data-counts]");
  var announcer = root.querySelector("[data-announce]");
  var textarea = form.querySelector("textarea");
  var textStatus = form.querySelector("[data-text-status]");
  var result = document.querySelector("[data-result]");

  var TYPES = { s: "standard", p: "premium", w: "wheelchair", c: "companion", "<": "couple", ">": "couple" };
  var BLOCKED = { s: "x", p: "P", w: "W", c: "C", "<": "[", ">": "]" };
  var UNBLOCKED = { x: "s", X: "s", S: "s", P: "p", W: "w", C: "c", "[": "<", "]": ">" };
  var NAMES = { standard: "standard", premium: "premium", wheelchair: "wheelchair space", companion: "companion seat", couple: "couple seat" };
  var LABELLED = /^\s*([A-Za-z0-9]{1,4})\s*:(.*)$/;

  /* ---- the model: rows of cells (characters), each row with an optional explicit label ---- */
  var rows = [];      // [{label: "A" | null, cells: ["s", ".", ...]}]
  var width = 1;
  var cursor = { r: 0, c: 0 };
  var tool = "s";
  var inUse = {};     // "x,y" -> label, seats held or sold for screenings to come
  var textTimer = null;

  function setInUse(places) {
    inUse = {};
    (places || []).forEach(function (p) { inUse[p.x + "," + p.y] = p.label; });
  }

  function isGap(ch) { return ch === "." || ch === " " || ch === undefined; }
  function isBlocked(ch) { return Object.prototype.hasOwnProperty.call(UNBLOCKED, ch); }
  function base(ch) { return isBlocked(ch) ? UNBLOCKED[ch] : ch; }
  function typeOf(ch) { return TYPES[base(ch)]; }
  function withBlock(ch, blocked) { var b = base(ch); return blocked ? BLOCKED[b] : b; }
  function rowHasSeats(row) { return row.cells.some(function (ch) { return !isGap(ch); }); }

  function rowLetters(index) {
    var letters = "";
    index += 1;
    while (index) {
      var rest = (index - 1) % 26;
      index = Math.floor((index - 1) / 26);
      letters = String.fromCharCode(65 + rest) + letters;
    }
    return letters;
  }

  /* The label and seat numbers of every row, as the notation gives them. */
  function numbering() {
    var seatRows = 0;
    return rows.map(function (row) {
      if (!rowHasSeats(row)) { return { label: null, numbers: [] }; }
      var label = row.label || rowLetters(seatRows);
      seatRows += 1;
      var n = 0;
      var numbers = row.cells.map(function (ch) { if (isGap(ch)) { return null; } n += 1; return n; });
      return { label: label, numbers: numbers };
    });
  }

  function pad() {
    width = Math.max(1, Math.min(config.maxColumns, width));
    rows.forEach(function (row) {
      while (row.cells.length < width) { row.cells.push("."); }
      row.cells.length = width;
    });
  }

  /* Couple halves must come in pairs: a half left alone becomes an ordinary seat. */
  function mendCouples() {
    rows.forEach(function (row) {
      var cells = row.cells;
      for (var i = 0; i < cells.length; i += 1) {
        var b = base(cells[i]);
        if (b === "<") {
          if (base(cells[i + 1]) === ">") { i += 1; continue; }
          cells[i] = withBlock("s", isBlocked(cells[i]));
        } else if (b === ">") {
          cells[i] = withBlock("s", isBlocked(cells[i]));
        }
      }
    });
  }

  /* ---- text <-> model ---- */
  function toText() {
    var numbers = numbering();
    var seatRowIndex = 0;
    var lettered = true;
    var labelWidth = 1;
    numbers.forEach(function (n) {
      if (n.label === null) { return; }
      if (n.label !== rowLetters(seatRowIndex)) { lettered = false; }
      labelWidth = Math.max(labelWidth, n.label.length);
      seatRowIndex += 1;
    });
    var lines = rows.map(function (row, i) {
      var cells = row.cells.slice();
      while (cells.length && isGap(cells[cells.length - 1])) { cells.pop(); }
      if (!cells.length) { return "."; }
      var text = cells.map(function (ch) { return isGap(ch) ? "." : ch; }).join("");
      if (lettered) { return text; }
      var label = numbers[i].label;
      while (label.length < labelWidth) { label = " " + label; }
      return label + ": " + text;
    });
    while (lines.length && lines[lines.length - 1] === ".") { lines.pop(); }
    return lines.join("\n");
  }

  /* Read a text grid as the server does; {rows, width} or {errors: [...]}. */
  function fromText(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n").map(function (l) { return l.replace(/\s+$/, ""); });
    var numbered = lines.map(function (line, i) { return { no: i + 1, line: line }; });
    while (numbered.length && !numbered[0].line.trim()) { numbered.shift(); }
    while (numbered.length && !numbered[numbered.length - 1].line.trim()) { numbered.pop(); }
    var errors = [];
    if (numbered.length > config.maxRows) {
      return { errors: ["At most " + config.maxRows + " lines, please (this has " + numbered.length + ")."] };
    }
    var out = [];
    var w = 1;
    numbered.forEach(function (item) {
      var m = LABELLED.exec(item.line);
      var label = null;
      var cells = item.line;
      var offset = 0;
      if (m) {
        label = m[1];
        cells = m[2];
        offset = item.line.length - cells.length;
        if (cells.charAt(0) === " ") { cells = cells.slice(1); offset += 1; }
      }
      if (cells.length > config.maxColumns) {
        errors.push("Line " + item.no + ": at most " + config.maxColumns + " cells in a row.");
        return;
      }
      var chars = cells.split("");
      chars.forEach(function (ch, x) {
        var where = "Line " + item.no + ", column " + (offset + x + 1) + ": ";
        if (isGap(ch)) { return; }
        if (ch === "\t") { errors.push(where + "a tab; use spaces or '.' for gaps."); return; }
        if (!typeOf(ch)) { errors.push(where + "'" + ch + "' is not a seat. Use s p w c <> x (blocked: x P W C []) and . or space for gaps."); return; }
        if ((ch === "<" || ch === "[") && !(chars[x + 1] === ">" || chars[x + 1] === "]")) {
          errors.push(where + "'" + ch + "' starts a couple seat; the next cell must be its other half, '>' (or ']').");
        }
        if ((ch === ">" || ch === "]") && !(chars[x - 1] === "<" || chars[x - 1] === "[")) {
          errors.push(where + "'" + ch + "' ends a couple seat; it must follow '<' (or '[').");
        }
      });
      var row = { label: label, cells: chars.map(function (ch) { return isGap(ch) ? "." : ch; }) };
      if (label && !rowHasSeats(row)) { errors.push("Line " + item.no + ": row " + label + " has no seats."); }
      out.push(row);
      w = Math.max(w, chars.length);
    });
    if (errors.length) { return { errors: errors.slice(0, 8) }; }
    if (!out.length) { out.push({ label: null, cells: ["s"] }); }
    return { rows: out, width: w };
  }

  function load(text) {
    var parsed = fromText(text);
    if (parsed.errors) { return parsed.errors; }
    rows = parsed.rows;
    width = parsed.width;
    pad();
    cursor.r = Math.min(cursor.r, rows.length - 1);
    cursor.c = Math.min(cursor.c, width - 1);
    return null;
  }

  /* ---- drawing ---- */
  function cellName(ch, r, c, n) {
    var row = n[r];
    if (isGap(ch)) {
      return (row.label ? "Row " + row.label : "Walkway") + ", column " + (c + 1) + ": aisle or gap";
    }
    var name = "Row " + row.label + ", seat " + row.numbers[c] + ": " + NAMES[typeOf(ch)];
    if (typeOf(ch) === "couple") {
      var other = base(ch) === "<" ? c + 1 : c - 1;
      name += " with seat " + row.numbers[other];
    }
    if (isBlocked(ch)) { name += ", blocked"; }
    if (inUse[c + "," + r]) { name += ", held or sold for a screening to come"; }
    return name;
  }

  function cellClass(ch, r, c) {
    var names = ["le-cell"];
    if (isGap(ch)) { names.push("le-gap"); } else {
      names.push("le-" + typeOf(ch));
      if (base(ch) === "<") { names.push("le-couple-left"); }
      if (base(ch) === ">") { names.push("le-couple-right"); }
      if (isBlocked(ch)) { names.push("le-blocked"); }
    }
    if (inUse[c + "," + r]) { names.push("le-in-use"); }
    return names.join(" ");
  }

  function draw(keepFocus) {
    var n = numbering();
    var hadFocus = keepFocus && grid.contains(document.activeElement);
    grid.textContent = "";
    grid.style.setProperty("--le-columns", String(width));
    rows.forEach(function (row, r) {
      var line = document.createElement("div");
      line.setAttribute("role", "row");
      line.className = "le-row";
      var head = document.createElement("div");
      head.setAttribute("role", "rowheader");
      head.className = "le-rowhead";
      head.textContent = n[r].label || "·";
      if (!n[r].label) { head.setAttribute("aria-label", "Walkway"); }
      line.appendChild(head);
      row.cells.forEach(function (ch, c) {
        var cell = document.createElement("div");
        cell.setAttribute("role", "gridcell");
        cell.className = cellClass(ch, r, c);
        cell.dataset.r = String(r);
        cell.dataset.c = String(c);
        cell.tabIndex = r === cursor.r && c === cursor.c ? 0 : -1;
        cell.setAttribute("aria-label", cellName(ch, r, c, n));
        cell.textContent = isGap(ch) ? "" : String(n[r].numbers[c]);
        line.appendChild(cell);
      });
      grid.appendChild(line);
    });
    if (hadFocus) { focusCursor(); }
    drawCounts();
  }

  function focusCursor() {
    var cell = grid.querySelector('[data-r="' + cursor.r + '"][data-c="' + cursor.c + '"]');
    if (!cell) { return; }
    grid.querySelectorAll('[tabindex="0"]').forEach(function (el) { el.tabIndex = -1; });
    cell.tabIndex = 0;
    cell.focus();
  }

  function drawCounts() {
    var counts = { standard: 0, premium: 0, wheelchair: 0, companion: 0, couple: 0 };
    var blocked = 0;
    var total = 0;
    rows.forEach(function (row) {
      row.cells.forEach(function (ch) {
        if (isGap(ch)) { return; }
        counts[typeOf(ch)] += 1;
        total += 1;
        if (isBlocked(ch)) { blocked += 1; }
      });
    });
    var items = [["All seats", total], ["Standard", counts.standard], ["Premium", counts.premium],
      ["Wheelchair spaces", counts.wheelchair], ["Companion", counts.companion],
      ["Couple (seats)", counts.couple], ["Blocked", blocked], ["Rows", numbering().filter(function (n) { return n.label; }).length]];
    countsEl.textContent = "";
    items.forEach(function (item) {
      var wrap = document.createElement("div");
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = item[0];
      dd.textContent = String(item[1]);
      dd.dataset.count = item[0];
      wrap.appendChild(dt);
      wrap.appendChild(dd);
      countsEl.appendChild(wrap);
    });
  }

  function say(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }

  function changed(message) {
    mendCouples();
    draw(true);
    textarea.value = toText();
    textStatus.textContent = "";
    if (message) { say(message); }
  }

  /* ---- editing cells ---- */
  function breakCouple(r, c) {
    var cells = rows[r].cells;
    var b = base(cells[c]);
    var other = b === "<" ? c + 1 : b === ">" ? c - 1 : null;
    if (other !== null && other >= 0 && other < cells.length) {
      cells[other] = withBlock("s", isBlocked(cells[other]));
    }
  }

  function apply(action, r, c) {
    var cells = rows[r].cells;
    var ch = cells[c];
    var n;
    if (action === "x") {
      if (isGap(ch)) { say("An aisle cannot be blocked: make it a seat first."); return; }
      var block = !isBlocked(ch);
      cells[c] = withBlock(ch, block);
      var b = base(ch);
      var other = b === "<" ? c + 1 : b === ">" ? c - 1 : null;
      if (other !== null) { cells[other] = withBlock(cells[other], block); }
      changed();
      n = numbering()[r];
      say("Row " + n.label + ", seat " + n.numbers[c] + (block ? " blocked" : " unblocked") + (other !== null ? ", with its couple half" : ""));
      return;
    }
    if (action === ".") {
      if (isGap(ch)) { return; }
      breakCouple(r, c);
      cells[c] = ".";
      changed("Column " + (c + 1) + " of this row is now an aisle");
      return;
    }
    if (action === "u") {
      var left = c;
      if (base(ch) === ">") { left = c - 1; }
      if (left + 1 >= width) {
        if (width >= config.maxColumns) { say("No room to the right for the other half."); return; }
        width += 1;
        pad();
      }
      var keepBlocked = isBlocked(cells[left]);
      breakCouple(r, left);
      breakCouple(r, left + 1);
      cells[left] = keepBlocked ? "[" : "<";
      cells[left + 1] = keepBlocked ? "]" : ">";
      changed();
      n = numbering()[r];
      say("Row " + n.label + ", seats " + n.numbers[left] + " and " + n.numbers[left + 1] + ": a couple pair");
      return;
    }
    if (TYPES[action]) {
      var blocked = isBlocked(ch);
      breakCouple(r, c);
      cells[c] = withBlock(action, blocked);
      changed();
      n = numbering()[r];
      say("Row " + n.label + ", seat " + n.numbers[c] + ": " + NAMES[TYPES[action]] + (blocked ? ", blocked" : ""));
    }
  }

  /* ---- rows and columns ---- */
  function newRowLabel() {
    var explicit = rows.some(function (row) { return row.label; });
    if (!explicit) { return null; }
    var used = {};
    numbering().forEach(function (n) { if (n.label) { used[n.label] = true; } });
    for (var i = 0; ; i += 1) { if (!used[rowLetters(i)]) { return rowLetters(i); } }
  }

  function structure(action) {
    var r = cursor.r;
    var c = cursor.c;
    if (action === "row-before" || action === "row-after") {
      if (rows.length >= config.maxRows) { say("At most " + config.maxRows + " rows."); return; }
      var cells = [];
      for (var i = 0; i < width; i += 1) { cells.push("s"); }
      var at = action === "row-before" ? r : r + 1;
      rows.splice(at, 0, { label: newRowLabel(), cells: cells });
      cursor.r = at;
      changed("Row inserted: row " + numbering()[at].label + ", " + width + " seats");
    } else if (action === "row-delete") {
      if (rows.length <= 1) { say("The last row cannot be deleted."); return; }
      var gone = numbering()[r].label;
      rows.splice(r, 1);
      cursor.r = Math.min(r, rows.length - 1);
      changed(gone ? "Row " + gone + " deleted" : "Walkway deleted");
    } else if (action === "col-before" || action === "col-after") {
      if (width >= config.maxColumns) { say("At most " + config.maxColumns + " columns."); return; }
      var col = action === "col-before" ? c : c + 1;
      rows.forEach(function (row) {
        var seat = rowHasSeats(row) ? "s" : ".";
        row.cells.splice(col, 0, seat);
      });
      width += 1;
      cursor.c = col;
      changed("Column " + (col + 1) + " inserted");
    } else if (action === "col-delete") {
      if (width <= 1) { say("The last column cannot be deleted."); return; }
      rows.forEach(function (row) { breakCouple(rows.indexOf(row), c); row.cells.splice(c, 1); });
      width -= 1;
      cursor.c = Math.min(c, width - 1);
      changed("Column " + (c + 1) + " deleted");
    }
  }

  /* ---- events ---- */
  function chooseTool(value) {
    tool = value;
    root.querySelectorAll("[data-tool]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.tool === value ? "true" : "false");
    });
  }

  root.querySelectorAll("[data-tool]").forEach(function (button) {
    button.addEventListener("click", function () { chooseTool(button.dataset.tool); say(button.textContent.trim() + " chosen"); });
  });
  root.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { structure(button.dataset.action); });
  });

  grid.addEventListener("click", function (event) {
    var cell = event.target.closest("[role=gridcell]");
    if (!cell) { return; }
    cursor.r = parseInt(cell.dataset.r, 10);
    cursor.c = parseInt(cell.dataset.c, 10);
    apply(tool, cursor.r, cursor.c);
    focusCursor();
  });
  grid.addEventListener("focusin", function (event) {
    var cell = event.target.closest("[role=gridcell]");
    if (!cell) { return; }
    cursor.r = parseInt(cell.dataset.r, 10);
    cursor.c = parseInt(cell.dataset.c, 10);
  });

  var MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  grid.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var key = event.key;
    if (MOVES[key]) {
      cursor.r = Math.max(0, Math.min(rows.length - 1, cursor.r + MOVES[key][0]));
      cursor.c = Math.max(0, Math.min(width - 1, cursor.c + MOVES[key][1]));
    } else if (key === "Home") {
      cursor.c = 0;
    } else if (key === "End") {
      cursor.c = width - 1;
    } else if (key === "Enter" || key === " ") {
      apply(tool, cursor.r, cursor.c);
    } else if (key === "Delete" || key === "Backspace") {
      apply(".", cursor.r, cursor.c);
    } else if ("spwcux.".indexOf(key.toLowerCase()) >= 0 && key.length === 1) {
      apply(key.toLowerCase(), cursor.r, cursor.c);
    } else {
      return;
    }
    event.preventDefault();
    focusCursor();
  });

  textarea.addEventListener("input", function () {
    window.clearTimeout(textTimer);
    textTimer = window.setTimeout(function () {
      var errors = load(textarea.value);
      if (errors) {
        textStatus.textContent = "The grid shows the last text that could be read. " + errors.join(" ");
        textStatus.classList.add("le-bad");
        return;
      }
      textStatus.classList.remove("le-bad");
      textStatus.textContent = "Grid redrawn from the text.";
      draw(false);
    }, 250);
  });

  /* ---- export ---- */
  var copyButton = form.querySelector("[data-copy]");
  var downloadButton = form.querySelector("[data-download]");
  copyButton.hidden = false;
  downloadButton.hidden = false;
  copyButton.addEventListener("click", function () {
    var done = function () { textStatus.textContent = "Text copied."; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(textarea.value).then(done, function () { textarea.select(); document.execCommand("copy"); done(); });
    } else { textarea.select(); document.execCommand("copy"); done(); }
  });
  downloadButton.addEventListener("click", function () {
    var blob = new Blob([textarea.value + "\n"], { type: "text/plain;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = (config.name || "layout").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-|-$/g, "").toLowerCase() + ".txt";
    document.body.appendChild(link);
    link.click();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });

  /* ---- preview and save ---- */
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function list(title, items) {
    var section = el("div", undefined, "le-list");
    section.appendChild(el("h3", title + " (" + items.length + ")"));
    var ul = el("ul");
    items.forEach(function (item) { ul.appendChild(el("li", item)); });
    section.appendChild(ul);
    return section;
  }

  function showPlan(plan, heading) {
    var box = el("div", undefined, "card");
    box.appendChild(el("h2", heading));
    var any = false;
    if (plan.added.length) { box.appendChild(list("Seats added", plan.added)); any = true; }
    if (plan.removed.length) { box.appendChild(list("Seats removed", plan.removed)); any = true; }
    if (plan.retyped.length) {
      box.appendChild(list("Seats retyped or blocked", plan.retyped.map(function (r) { return r.seat + ": " + r.before + " → " + r.after; })));
      any = true;
    }
    if (plan.moved.length) { box.appendChild(list("Seats moved on the map", plan.moved)); any = true; }
    if (!any) { box.appendChild(el("p", "No seat changes.")); }
    box.appendChild(el("p", plan.seats + " seats in all; " + plan.in_use.length + " held or sold for screenings to come.", "quiet"));
    return box;
  }

  function showRefusals(refusals, heading) {
    var box = el("div", undefined, "notice notice-error le-refusals");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", heading));
    var ul = el("ul");
    refusals.forEach(function (r) { ul.appendChild(el("li", r.message)); });
    box.appendChild(ul);
    return box;
  }

  function showErrors(errors) {
    var box = el("div", undefined, "notice notice-error");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", "The layout text has mistakes:"));
    var ul = el("ul");
    errors.forEach(function (e) { ul.appendChild(el("li", e)); });
    box.appendChild(ul);
    return box;
  }

  function post(url) {
    return fetch(url, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: {} }; });
    });
  }

  function showError(answer) {
    var error = answer.body.error || {};
    if (error.code === "layout_seats_in_use") {
      result.appendChild(showRefusals(error.details.refusals, "Not saved: these seats are held or sold and must stay as they are."));
      if (error.details.plan) { result.appendChild(showPlan(error.details.plan, "What this text would change")); }
    } else if (error.code === "layout_invalid") {
      result.appendChild(showErrors(error.details.errors || [error.message]));
    } else {
      result.appendChild(showErrors([error.message || "The server could not answer (" + answer.status + "). Try again."]));
    }
  }

  var busy = false;
  var previewButton = form.querySelector("[data-preview]");
  previewButton.hidden = false;
  previewButton.addEventListener("click", function () {
    if (busy) { return; }
    busy = true;
    result.textContent = "";
    post(config.previewUrl).then(function (answer) {
      busy = false;
      if (answer.status !== 200) { showError(answer); return; }
      var plan = answer.body.plan;
      if (plan.refusals.length) {
        result.appendChild(showRefusals(plan.refusals, "Saving this would be refused: these seats are held or sold and must stay as they are."));
      }
      result.appendChild(showPlan(plan, "Preview: what saving would change"));
      result.focus();
    }, function () { busy = false; result.appendChild(showErrors(["The server could not be reached. Try again."])); });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    result.textContent = "";
    var button = form.querySelector("[type=submit]");
    button.disabled = true;
    post(config.saveUrl).then(function (answer) {
      busy = false;
      button.disabled = false;
      if (answer.status !== 200) { showError(answer); result.focus(); return; }
      var box = el("p", "Saved: " + answer.body.change.summary + ".", "notice notice-success");
      box.setAttribute("role", "status");
      result.appendChild(box);
      result.appendChild(showPlan(answer.body.plan, "What changed"));
      setInUse(answer.body.inUse);
      textarea.value = answer.body.text;
      load(answer.body.text);
      draw(false);
      result.focus();
    }, function () {
      busy = false;
      button.disabled = false;
      result.appendChild(showErrors(["The server could not be reached: nothing was saved. Try again."]));
    });
  });

  /* ---- start ---- */
  setInUse(config.inUse);
  var startErrors = load(textarea.value);
  if (startErrors) { rows = [{ label: null, cells: ["s"] }]; width = 1; textStatus.textContent = startErrors.join(" "); }
  pad();
  root.hidden = false;
  draw(false);
})();
