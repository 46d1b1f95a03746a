// The staff schedule's planner (templates/staff/schedule.html). The page works without it; this
// adds day presets (every day, Mon-Fri, weekend) and marks a preview out of date once the
// pattern changes, so that "Save" is not pressed for a plan other than the one previewed.
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) return;

  var presets = form.querySelector(".weekday-presets");
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="weekdays"]'));
  if (presets && boxes.length) {
    presets.hidden = false;
    presets.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-days]");
      if (!button) return;
      var days = button.getAttribute("data-days").split(",").filter(Boolean);
      boxes.forEach(function (box) { box.checked = days.indexOf(box.value) !== -1; });
      stale();
    });
  }

  var preview = document.getElementById("plan-preview");
  function stale() {
    if (!preview || preview.classList.contains("stale")) return;
    preview.classList.add("stale");
    var save = preview.querySelector(".save-plan");
    if (save) {
      save.disabled = true;
      var note = document.createElement("p");
      note.className = "stale-note";
      note.setAttribute("role", "status");
      note.textContent = "The pattern changed since this preview: press Preview again before saving.";
      save.parentNode.insertAdjacentElement("afterend", note);
    }
  }
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);
})();
