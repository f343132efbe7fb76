/*
 * The settings page's Appearance card: theme (follow the system, light, dark) and
 * density (comfortable, compact), applied at once and kept in this browser's
 * localStorage under the same keys boot.js reads before the first paint and the
 * user menu's toggles write ("dezky.theme", "dezky.density"). "Follow the system"
 * is the absence of a remembered theme: boot.js and shell.js then use
 * prefers-color-scheme, and shell.js follows it when it changes.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var THEME = "dezky.theme";
  var DENSITY = "dezky.density";
  var prefersLight = window.matchMedia("(prefers-color-scheme: light)");

  function stored(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (error) {
      // Blocked storage: the choice applies to this page only.
    }
  }

  // Theme and density switch in one cut, without the shell's transitions (base.css).
  function withoutTransitions(change) {
    root.classList.remove("is-ready");
    change();
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        root.classList.add("is-ready");
      });
    });
  }

  function sync(form) {
    var theme = stored(THEME);
    if (theme !== "light" && theme !== "dark") theme = "system";
    var density = root.dataset.density === "compact" ? "compact" : "comfy";
    form.querySelectorAll('input[name="theme"]').forEach(function (input) {
      input.checked = input.value === theme;
    });
    form.querySelectorAll('input[name="density"]').forEach(function (input) {
      input.checked = input.value === density;
    });
  }

  function apply(input) {
    if (input.name === "theme") {
      var theme = input.value;
      store(THEME, theme === "system" ? null : theme);
      if (theme === "system") theme = prefersLight.matches ? "light" : "dark";
      withoutTransitions(function () {
        root.dataset.theme = theme;
      });
    } else if (input.name === "density") {
      var density = input.value === "compact" ? "compact" : "comfy";
      store(DENSITY, density);
      withoutTransitions(function () {
        root.dataset.density = density;
      });
    }
    // The user menu's switches show the new state too.
    document.querySelectorAll("[data-theme-toggle]").forEach(function (el) {
      el.setAttribute("aria-checked", String(root.dataset.theme !== "light"));
    });
    document.querySelectorAll("[data-density-toggle]").forEach(function (el) {
      el.setAttribute("aria-checked", String(root.dataset.density === "compact"));
    });
  }

  function init() {
    var form = document.querySelector("[data-appearance-form]");
    if (!form) return;
    sync(form);
    form.addEventListener("change", function (event) {
      if (event.target.matches('input[type="radio"]')) apply(event.target);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault(); // nothing to send: the choices are this browser's
    });
    // The user menu's toggles or another tab changed a preference: show it here.
    new MutationObserver(function () {
      sync(form);
    }).observe(root, { attributes: true, attributeFilter: ["data-theme", "data-density"] });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
