/*
 * Operator team: what htmx cannot do on its own for the invite dialog.
 * (Opening, closing, focus and copy buttons are shell.js's, for every dialog.)
 *
 * - The invite answers a refusal with its real status (400, 409, 429, 502) and the
 *   form with the error in it; htmx drops 4xx/5xx bodies by default, so those are
 *   let through here. Any other failure (the console unreachable, a 500) is said
 *   in the form instead of failing silently.
 * - When the team list is reloaded after the dialog closed, the button that opened
 *   it (a Retry row) may be gone; focus then goes to "Invite operator" rather than
 *   being lost to the page.
 * - A discarded invite's answer replaces the list, its confirm dialog and the
 *   Discard button with it; shell.js then focuses the notice that says what
 *   happened ([data-swap-focus]), so this file leaves focus alone.
 */
(function () {
  "use strict";

  var SHOWN_STATUSES = [400, 409, 429, 502];

  // The request's source is in requestConfig: `detail.elt` of a swap event is its target.
  function inviteForm(event) {
    var detail = event.detail || {};
    var source = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    return source && source.closest ? source.closest("[data-invite-form]") : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!inviteForm(event)) return;
    if (SHOWN_STATUSES.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function sayFailure(form, text) {
    var box = form.querySelector("[data-invite-transport-error]");
    var message = form.querySelector("[data-invite-transport-message]");
    if (!box || !message) return;
    message.textContent = text;
    box.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var form = inviteForm(event);
    if (!form || SHOWN_STATUSES.indexOf(event.detail.xhr.status) !== -1) return;
    sayFailure(
      form,
      "The console answered " + event.detail.xhr.status + ". Nothing is shown as done; " +
        "retry the invite, it picks up where it stopped."
    );
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = inviteForm(event);
    if (!form) return;
    sayFailure(form, "The console could not be reached. Check the connection and retry the invite.");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "operator-team") return;
    if (target.querySelector("[data-swap-focus]")) return;
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var opener = document.querySelector("[data-invite-opener]");
    if (opener) opener.focus();
  });
})();
