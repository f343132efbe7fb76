/*
 * The command palette (Ctrl-K / Cmd-K, or the top bar's [data-palette-open]).
 *
 * The dialog (console/palette_dialog.html) holds a combobox input; htmx asks
 * console:palette for results on every pause in typing and swaps them into
 * #palette-results. This file only does what htmx cannot: open and close, keep one
 * option active (aria-activedescendant, so focus never leaves the input), run the
 * active option on Enter or click, and run the few actions that live in the
 * browser (theme, shortcuts, sign out). Focus goes back where it was on close.
 */
(function () {
  "use strict";

  var opener = null; // the element focused before the palette opened
  var enterQueued = false; // Enter pressed before the answer to the latest typing arrived

  function dialog() {
    return document.getElementById("palette");
  }

  function input() {
    return document.getElementById("palette-input");
  }

  function listbox() {
    return document.getElementById("palette-listbox");
  }

  function options() {
    var list = listbox();
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  function activeOption() {
    var field = input();
    var id = field && field.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function setActive(option, scroll) {
    var field = input();
    options().forEach(function (el) {
      el.setAttribute("aria-selected", String(el === option));
    });
    if (option) {
      field.setAttribute("aria-activedescendant", option.id);
      if (scroll) option.scrollIntoView({ block: "nearest" });
    } else {
      field.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    var list = options();
    if (!list.length) return;
    var index = list.indexOf(activeOption());
    var next = index < 0 ? (step > 0 ? 0 : list.length - 1) : (index + step + list.length) % list.length;
    setActive(list[next], true);
  }

  // The query as the server cleans it (console.palette.clean_query).
  function cleaned(value) {
    return value.split(/\s+/).filter(Boolean).join(" ").slice(0, 100);
  }

  // Do the results on screen answer what is in the box now?
  function resultsAreCurrent() {
    var list = listbox();
    return (
      Boolean(list) && list.hasAttribute("data-query") && list.getAttribute("data-query") === cleaned(input().value)
    );
  }

  function announce(text) {
    var status = document.getElementById("palette-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 30);
  }

  /* ------------------------------------------------------- open and close -- */

  function open() {
    var box = dialog();
    var field = input();
    if (!box || !field) return;
    if (box.open) {
      field.focus();
      field.select();
      return;
    }
    var focused = document.activeElement;
    opener = focused && focused !== document.body ? focused : null;
    field.value = "";
    enterQueued = false;
    var list = listbox();
    if (list) {
      list.innerHTML = "";
      list.removeAttribute("data-query");
    }
    field.setAttribute("aria-expanded", "false");
    field.removeAttribute("aria-activedescendant");
    box.showModal();
    field.focus();
    // An empty box shows recent tenants and flags: ask for them on every opening.
    if (window.htmx) window.htmx.trigger(field, "palette-open");
  }

  // Close, and say where focus goes: back to the opener unless `focusTo` is given
  // (false when the page is about to be left, so nothing flickers).
  function close(focusTo) {
    var box = dialog();
    if (!box || !box.open) return;
    var back = opener;
    opener = focusTo === undefined ? back : focusTo;
    box.close();
    return back;
  }

  function wire() {
    var box = dialog();
    if (!box || box.dataset.paletteWired) return;
    box.dataset.paletteWired = "true";
    box.addEventListener("close", function () {
      var field = input();
      enterQueued = false;
      if (field) {
        field.setAttribute("aria-expanded", "false");
        field.removeAttribute("aria-activedescendant");
      }
      var target = opener;
      opener = null;
      if (target && document.contains(target) && typeof target.focus === "function") target.focus();
    });
  }

  /* ------------------------------------------------------------- running -- */

  function runAction(name) {
    if (name === "reconcile") {
      // Not a place to go yet: it needs a tenant. Start the query that finds one.
      var field = input();
      field.value = "reconcile ";
      field.focus();
      field.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    if (name === "toggle-theme") {
      close();
      // The user menu's own switch, so the theme changes exactly as it does there.
      var toggle = document.querySelector("[data-theme-toggle]");
      if (toggle) toggle.click();
      return;
    }
    if (name === "shortcuts") {
      var back = close(null);
      var help = document.getElementById("shortcuts-dialog");
      if (!help) return;
      help.showModal();
      var autofocus = help.querySelector("[autofocus]");
      if (autofocus) autofocus.focus();
      help.addEventListener(
        "close",
        function () {
          if (back && document.contains(back) && typeof back.focus === "function") back.focus();
        },
        { once: true }
      );
      return;
    }
    if (name === "sign-out") {
      var form = document.querySelector('form[action$="/logout/"]');
      close(null);
      if (!form) return;
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    }
  }

  function run(option, newTab) {
    if (!option) return;
    var action = option.getAttribute("data-palette-action");
    if (action) {
      runAction(action);
      return;
    }
    var href = option.getAttribute("href");
    if (!href) return;
    if (newTab) {
      window.open(href, "_blank", "noopener");
      return;
    }
    close(null);
    window.location.assign(href);
  }

  /* -------------------------------------------------------------- results -- */

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "palette-results") return;
    var field = input();
    var list = options();
    field.setAttribute("aria-expanded", String(list.length > 0));
    target.scrollTop = 0;
    setActive(list[0] || null, false);
    var count = list.length;
    announce(count === 0 ? "No results" : count === 1 ? "1 result" : count + " results");
    if (enterQueued && resultsAreCurrent()) {
      enterQueued = false;
      run(activeOption(), false);
    }
  });

  /* --------------------------------------------------------------- events -- */

  document.addEventListener("keydown", function (event) {
    // Ctrl-K / Cmd-K opens the palette from anywhere, a field included.
    if (
      (event.ctrlKey || event.metaKey) &&
      !event.altKey &&
      !event.shiftKey &&
      (event.key === "k" || event.key === "K")
    ) {
      event.preventDefault();
      wire();
      open();
      return;
    }
    var field = input();
    if (!field || event.target !== field) return;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        move(1);
        return;
      case "ArrowUp":
        event.preventDefault();
        move(-1);
        return;
      case "Enter":
        if (event.isComposing) return;
        event.preventDefault();
        if (!resultsAreCurrent()) {
          // The answer to the last keystrokes is on its way: run its first result.
          enterQueued = true;
          return;
        }
        run(activeOption() || options()[0], event.ctrlKey || event.metaKey || event.shiftKey);
        return;
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    if (target.closest("[data-palette-open]")) {
      event.preventDefault();
      wire();
      open();
      return;
    }
    var option = target.closest('#palette [role="option"]');
    if (!option) return;
    // A modified click on a link opens it in a new tab or window, as links do.
    if (option.hasAttribute("href") && (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) return;
    event.preventDefault();
    run(option, false);
  });

  // Options are not focusable: pressing one must leave focus in the input.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest('#palette [role="option"]')) event.preventDefault();
  });

  document.addEventListener("mousemove", function (event) {
    var option = event.target.closest && event.target.closest('#palette [role="option"]');
    if (option && option !== activeOption()) setActive(option, false);
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
