// Copy buttons for feed addresses. Without JavaScript the address sits in a readonly input
// that can be selected and copied by hand; with it, a button appears that copies it.
(function () {
  if (window.plannerFeedCopy) return;
  window.plannerFeedCopy = true;
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-copy"));
        var status = document.querySelector('[data-copied-for="' + input.id + '"]');
        function done(message) { if (status) status.textContent = message; }
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(
            function () { done("Copied."); },
            function () { done("Press Ctrl+C (or ⌘C) to copy."); }
          );
        } else {
          try { done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C (or ⌘C) to copy."); }
          catch (e) { done("Press Ctrl+C (or ⌘C) to copy."); }
        }
      });
    });
  });
})();
