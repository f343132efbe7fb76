/*
 * Operator team: the one thing the shell's focus policy cannot know.
 *
 * Closing the invite dialog reloads the team list. When the dialog was opened from
 * a Retry row that the reload removed (the retry finished), focus would fall to the
 * list itself; it goes to "Invite operator" instead, the control that does the same
 * job; a Retry row still there gets focus back (found again by its id). A discard's
 * notice takes focus as the shell places it ([data-swap-focus]).
 */
(function () {
  "use strict";

  var lostId = "";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "operator-team") return;
    var active = document.activeElement;
    // Focus on the list itself (the shell's last resort) keeps what was lost before.
    if (active && active !== target) lostId = target.contains(active) ? active.id : "";
  });

  // Run after the swap and again after the settle: the dialog can close in between
  // (Done pressed while the list was reloading), leaving focus on nothing or on the list.
  function refocus(event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "operator-team" || !document.contains(target)) return;
    var active = document.activeElement;
    if (target.querySelector("[data-swap-focus]")) return;
    if (active && active !== document.body && active !== target) return;
    var again = lostId ? document.getElementById(lostId) : null;
    var next = again || document.getElementById("invite-operator");
    if (next) next.focus();
  }

  document.addEventListener("htmx:afterSwap", refocus);
  document.addEventListener("htmx:afterSettle", refocus);
})();
