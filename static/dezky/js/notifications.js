/*
 * The notification bell and its drawer (notifications/templates/notifications/).
 *
 * - The unread count is polled every data-poll-seconds while the tab is visible
 *   (a hidden tab asks nothing; showing it again asks at once). Polling, not a
 *   server-sent stream: the console runs on sync workers, and a stream would hold a
 *   worker for every open tab. The count is fetched here rather than by htmx so that
 *   a poll never goes through the swap machinery (and its focus policy).
 * - shell.js opens and closes the drawer (a modal <dialog data-dialog>); this file
 *   loads its list on every opening and closes it on navigation.
 */
(function () {
  "use strict";

  var timer = null;
  var inFlight = false;

  function bell() {
    return document.querySelector("[data-notifications-bell]");
  }

  function drawer() {
    return document.querySelector("[data-notifications-drawer]");
  }

  function pollMs(el) {
    var seconds = parseInt(el.getAttribute("data-poll-seconds") || "30", 10);
    return Math.max(1, isNaN(seconds) ? 30 : seconds) * 1000;
  }

  function paintCount(el, html) {
    var slot = el.querySelector("[data-notifications-count]");
    if (!slot) return;
    // Our own server's fragment (escaped by its template), parsed inertly.
    var parsed = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    slot.replaceChildren.apply(slot, Array.prototype.slice.call(parsed.body.childNodes));
  }

  function poll() {
    var el = bell();
    if (!el || inFlight) return;
    inFlight = true;
    fetch(el.getAttribute("data-count-url"), {
      headers: { "HX-Request": "true", Accept: "text/html" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        // Signed out meanwhile, or a server error: keep what is shown, try next time.
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) paintCount(el, html);
      })
      .catch(function () {})
      .then(function () {
        inFlight = false;
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = null;
    var el = bell();
    if (!el || document.hidden) return;
    timer = window.setTimeout(function () {
      poll();
      schedule();
    }, pollMs(el));
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();
    schedule();
  });

  // "Mark all read" answers with HX-Trigger: notifications-changed.
  document.addEventListener("notifications-changed", poll);

  function loadList() {
    var el = bell();
    var box = document.querySelector("[data-notifications-items]");
    if (!el || !box || !window.htmx) return;
    // The box is the request's source too, so the request reads as coming from inside.
    window.htmx.ajax("GET", el.getAttribute("data-drawer-url"), { source: box, target: box, swap: "innerHTML" });
  }

  // The bell is a link to the page; shell.js opens the drawer instead (data-dialog-open).
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-notifications-bell]");
    if (opener && !event.defaultPrevented) return; // shell.js did not open it: follow the link
    if (opener) loadList();
  });

  function closeDrawer() {
    var dialog = drawer();
    if (dialog && dialog.open) dialog.close("navigation");
  }

  // Navigation closes the drawer: any htmx request from outside it, Back and
  // Forward, and leaving the page (so the back-forward cache never restores it open).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = drawer();
    var detail = event.detail || {};
    var inside = [detail.elt, detail.target].some(function (el) {
      return el && dialog && dialog.contains(el);
    });
    if (dialog && dialog.open && !inside) closeDrawer();
  });
  window.addEventListener("popstate", closeDrawer);
  window.addEventListener("pagehide", closeDrawer);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) poll(); // back from the cache: the count may be stale
  });

  function init() {
    poll();
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
