// Progressive enhancement only: every page works without this file.
//
// 1. Relative days ("tomorrow", "in 3 days") stay true on a page left open past midnight:
//    elements with data-relative="<ISO datetime>" data-zone="<IANA zone>" are recounted in
//    that zone, in the page's language, with the same wording as planner.locales.relative_days.
// 2. Answering without a full reload: a form marked data-enhance (answer buttons, regular,
//    sign-up slots) is posted with fetch; the server answers as it would without JavaScript
//    (a redirect back to the page), and the page's <main> is replaced by the new one, keeping
//    scroll position and focus. Anything unexpected falls back to a normal submit.
(function () {
  "use strict";
  if (window.planner) return;
  var planner = (window.planner = {});

  // ---------------------------------------------------------------- relative days

  function dayNumber(date, zone) {
    // Days since the epoch of the calendar date ``date`` has in ``zone``.
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "numeric", day: "numeric"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return Math.round(Date.UTC(+parts.year, +parts.month - 1, +parts.day) / 86400000);
  }

  function relativeDay(iso, zone, now) {
    var days;
    try {
      days = dayNumber(new Date(iso), zone) - dayNumber(now || new Date(), zone);
    } catch (e) {
      return null; // unknown zone: keep the server's words
    }
    if (isNaN(days)) return null;
    // The page's language, through CLDR's words as the server's Babel uses them ("tomorrow",
    // "übermorgen", "dans 3 jours"), counted the same way as planner.locales.relative_days.
    if (!window.Intl || !Intl.RelativeTimeFormat) return null;
    var words = new Intl.RelativeTimeFormat(document.documentElement.lang || "en-GB",
                                            { numeric: "auto" });
    var n = Math.abs(days), sign = days < 0 ? -1 : 1;
    if (n < 14) return words.format(days, "day");
    if (n < 60) return words.format(sign * Math.floor(n / 7), "week");
    return words.format(sign * Math.floor(n / 30), "month");
  }
  planner.relativeDay = relativeDay;

  function refreshRelative(root) {
    (root || document).querySelectorAll("[data-relative]").forEach(function (el) {
      var text = relativeDay(el.getAttribute("data-relative"), el.getAttribute("data-zone") || "UTC");
      if (!text) return;
      if (el.hasAttribute("data-capitalize")) text = text.charAt(0).toUpperCase() + text.slice(1);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  planner.refreshRelative = refreshRelative;

  // ---------------------------------------------------------------- answering in place

  var live; // one polite live region, created once, so screen readers hear the outcome

  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function formBody(form, submitter) {
    var data;
    try {
      data = new FormData(form, submitter || undefined);
    } catch (e) { // browsers without the submitter argument
      data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    }
    return new URLSearchParams(data);
  }

  function swapMain(html, action, value) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) return false;
    var y = window.scrollY;
    main.innerHTML = fresh.innerHTML;
    if (doc.title) document.title = doc.title;
    refreshRelative(main);
    window.scrollTo(0, y);
    var target = null;
    main.querySelectorAll("form[data-enhance]").forEach(function (f) {
      if (target || f.getAttribute("action") !== action) return;
      target = value != null ? f.querySelector('button[value="' + value + '"]') : null;
      target = target || f.querySelector("button");
    });
    var flash = main.querySelector(".flashes");
    if (target) target.focus({ preventScroll: true });
    else if (flash) { flash.setAttribute("tabindex", "-1"); flash.focus({ preventScroll: true }); }
    announce(flash ? flash.textContent.trim() : "Saved.");
    return true;
  }

  function plainSubmit(form, submitter) {
    form.setAttribute("data-plain", "");
    if (form.requestSubmit) form.requestSubmit(submitter || undefined);
    else form.submit();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-enhance")) return;
    if (form.hasAttribute("data-plain") || !window.fetch || !window.DOMParser) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // one answer at a time
    var submitter = event.submitter || null;
    // The same button is found again in the new page by its form's action and its value.
    var action = form.getAttribute("action");
    var value = submitter ? submitter.value : null;
    var token = form.querySelector('input[name="csrf_token"]');
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: formBody(form, submitter),
      credentials: "same-origin",
      redirect: "follow",
      headers: token ? { "X-CSRFToken": token.value } : {}
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var landed = new URL(response.url, location.href);
      if (landed.origin !== location.origin || type.indexOf("text/html") !== 0) {
        throw new Error("not a page");
      }
      if (response.redirected && landed.pathname !== location.pathname) {
        location.assign(landed.href); // the server sent us elsewhere: follow it
        return;
      }
      return response.text().then(function (html) {
        if (!swapMain(html, action, value)) throw new Error("no main");
      });
    }).catch(function () {
      form.removeAttribute("aria-busy");
      plainSubmit(form, submitter);
    });
  });

  // ---------------------------------------------------------------- start

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    refreshRelative();
    window.setInterval(refreshRelative, 60 * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refreshRelative();
    });
    window.addEventListener("pageshow", function () { refreshRelative(); });
  });
})();
