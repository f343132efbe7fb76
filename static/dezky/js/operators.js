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
    lostId = active && target.contains(active) ? active.id : "";
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "operator-team") return;
    var active = document.activeElement;
    if (target.querySelector("[data-swap-focus]") || (active && active !== document.body)) return;
    var again = lostId ? document.getElementById(lostId) : null;
    var next = again || document.getElementById("invite-operator");
    if (next) next.focus();
  });
})();
