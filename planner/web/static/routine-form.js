// The routine form without surprises (progressive enhancement; the server does the same on
// submit, see RoutineForm.follow_weekday): the weekly day follows the chosen first date until
// the person ticks days themselves.
(function () {
  "use strict";
  var form = document.querySelector("form.routine-form");
  if (!form) return;
  // "Show the fields for this kind" matters only once the kind differs from the fields shown.
  var kind = form.querySelector("select[name=activity]");
  var kindButton = form.querySelector("[data-kind-button]");
  var shown = form.querySelector("input[name=shown_activity]");
  if (kind && kindButton && shown) {
    var sync = function () { kindButton.hidden = kind.value === shown.value; };
    kind.addEventListener("change", sync);
    sync();
  }
  var followed = form.querySelector("[data-followed-weekday]");
  var date = form.querySelector("input[name=start_date]");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=weekdays]"));
  if (!followed || !date || !boxes.length) return;
  var CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

  function weekdayOf(value) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    if (!parts) return null;
    var day = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3])).getUTCDay();
    return CODES[(day + 6) % 7];
  }

  date.addEventListener("change", function () {
    var was = followed.value;
    var ticked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (!was || ticked.length !== 1 || ticked[0] !== was) return;
    var now = weekdayOf(date.value);
    if (!now) return;
    boxes.forEach(function (b) { b.checked = b.value === now; });
    followed.value = now;
  });
  boxes.forEach(function (b) {
    b.addEventListener("change", function () { followed.value = ""; });
  });
})();
