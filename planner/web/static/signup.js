// Progressive enhancement: preselect the browser's own zone; without JS the default stays.
// A file rather than an inline script, so the Content-Security-Policy can forbid inline code.
(function () {
  var select = document.getElementById("timezone");
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (select && zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
  } catch (e) {}
})();
