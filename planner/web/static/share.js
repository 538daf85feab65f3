// Share buttons for invite links: the phone's own share sheet (Web Share API) where there is
// one; elsewhere the button stays hidden and the Copy button (feeds.js) is the fallback.
(function () {
  "use strict";
  if (!navigator.share) return;
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    document.querySelectorAll("button[data-share]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-share"));
      if (!input) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({
          title: button.getAttribute("data-share-title") || document.title,
          text: button.getAttribute("data-share-text") || "",
          url: input.value
        }).catch(function () { /* the person closed the share sheet */ });
      });
    });
  });
})();
