/*
 * Dezky Console shell behaviour: sidebar, theme, density, user menu, dialogs,
 * copy buttons, dismissible messages.
 *
 * Everything is wired by event delegation on `document`, so markup that htmx
 * swaps in later works without re-binding. The remembered preferences are first
 * applied by the inline script in base.html (before paint); this file keeps them
 * in sync after that.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var KEYS = { theme: "dezky.theme", density: "dezky.density", sidebar: "dezky.sidebar" };
  var narrowScreen = window.matchMedia("(max-width: 760px)");

  function remember(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      // Blocked storage only means the choice is not remembered.
    }
  }

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region) return;
    region.textContent = "";
    // A fresh text node after a tick makes screen readers repeat identical messages.
    window.setTimeout(function () {
      region.textContent = text;
    }, 30);
  }

  /* ------------------------------------------------- preferences (sync UI) -- */

  function syncControls() {
    var dark = root.dataset.theme !== "light";
    var compact = root.dataset.density === "compact";
    var collapsed = root.dataset.sidebar === "collapsed";
    // On a phone the sidebar is a drawer with full labels, never the icon rail.
    var iconsOnly = collapsed && !narrowScreen.matches;

    document.querySelectorAll("[data-theme-toggle]").forEach(function (el) {
      el.setAttribute("aria-checked", String(dark));
    });
    document.querySelectorAll("[data-density-toggle]").forEach(function (el) {
      el.setAttribute("aria-checked", String(compact));
    });
    document.querySelectorAll("[data-sidebar-toggle]").forEach(function (el) {
      el.setAttribute("aria-expanded", String(!collapsed));
      el.title = (collapsed ? "Expand" : "Collapse") + " sidebar (" + shortcutLabel() + "+[)";
      var label = el.querySelector("[data-sidebar-toggle-label]");
      if (label) label.textContent = collapsed ? "Expand" : "Collapse";
    });
    // Icon-only nav rows need their label as a tooltip; expanded rows do not.
    document.querySelectorAll("[data-nav-label]").forEach(function (el) {
      if (iconsOnly) el.title = el.dataset.navLabel;
      else el.removeAttribute("title");
    });
  }

  function isMac() {
    return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  }

  function shortcutLabel() {
    return isMac() ? "⌘" : "Ctrl";
  }

  function setPreference(name, value) {
    // The sidebar animates its width; theme and density switch in one cut.
    if (name !== "sidebar") {
      root.classList.remove("is-ready");
      window.requestAnimationFrame(function () {
        window.requestAnimationFrame(function () {
          root.classList.add("is-ready");
        });
      });
    }
    root.dataset[name] = value;
    remember(KEYS[name], value);
    syncControls();
  }

  function toggleSidebar() {
    setPreference("sidebar", root.dataset.sidebar === "collapsed" ? "expanded" : "collapsed");
  }

  // Another tab changed a preference: follow it so tabs never disagree.
  window.addEventListener("storage", function (event) {
    if (event.key === KEYS.theme) root.dataset.theme = event.newValue === "light" ? "light" : "dark";
    else if (event.key === KEYS.density) root.dataset.density = event.newValue === "compact" ? "compact" : "comfy";
    else if (event.key === KEYS.sidebar)
      root.dataset.sidebar = event.newValue === "collapsed" ? "collapsed" : "expanded";
    else return;
    syncControls();
  });

  narrowScreen.addEventListener("change", syncControls);

  // Until someone picks a theme, the console follows the operating system's.
  var prefersLight = window.matchMedia("(prefers-color-scheme: light)");
  prefersLight.addEventListener("change", function () {
    var chosen = null;
    try {
      chosen = window.localStorage.getItem(KEYS.theme);
    } catch (error) {
      chosen = null;
    }
    if (chosen) return;
    root.dataset.theme = prefersLight.matches ? "light" : "dark";
    syncControls();
  });

  /* ------------------------------------------------------------- user menu -- */

  var openMenu = null; // { wrapper, trigger, panel }

  function menuParts(wrapper) {
    return {
      wrapper: wrapper,
      trigger: wrapper.querySelector("[data-user-menu-trigger]"),
      panel: wrapper.querySelector("[data-user-menu-panel]"),
    };
  }

  function menuItems(panel) {
    return Array.prototype.filter.call(panel.querySelectorAll('[role^="menuitem"]'), function (el) {
      return !el.disabled && el.offsetParent !== null;
    });
  }

  function showMenu(wrapper, focusLast) {
    if (openMenu) hideMenu(false);
    var menu = menuParts(wrapper);
    if (!menu.trigger || !menu.panel) return;
    menu.panel.hidden = false;
    menu.trigger.setAttribute("aria-expanded", "true");
    openMenu = menu;
    var items = menuItems(menu.panel);
    if (items.length) items[focusLast ? items.length - 1 : 0].focus();
  }

  function hideMenu(returnFocus) {
    if (!openMenu) return;
    var menu = openMenu;
    openMenu = null;
    menu.panel.hidden = true;
    menu.trigger.setAttribute("aria-expanded", "false");
    if (returnFocus) menu.trigger.focus();
  }

  function moveMenuFocus(step, absolute) {
    var items = menuItems(openMenu.panel);
    if (!items.length) return;
    var index = items.indexOf(document.activeElement);
    var next;
    if (absolute === "first") next = 0;
    else if (absolute === "last") next = items.length - 1;
    else next = (index + step + items.length) % items.length;
    items[next].focus();
  }

  /* ---------------------------------------------------------------- dialogs -- */

  // Remember who opened each dialog so focus can go back there on close.
  var dialogOpeners = new WeakMap();

  function openDialog(dialog, opener) {
    if (!dialog || dialog.open) return;
    dialogOpeners.set(dialog, opener || document.activeElement);
    dialog.showModal();
    var autofocus = dialog.querySelector("[autofocus]");
    if (autofocus) autofocus.focus();
  }

  function wireDialog(dialog) {
    if (dialog.dataset.dialogWired) return;
    dialog.dataset.dialogWired = "true";
    dialog.addEventListener("close", function () {
      var opener = dialogOpeners.get(dialog);
      dialogOpeners.delete(dialog);
      if (opener && document.contains(opener) && typeof opener.focus === "function") opener.focus();
      if (dialog.hasAttribute("data-dialog-remove-on-close")) dialog.remove();
    });
  }

  function wireDialogs(scope) {
    (scope || document).querySelectorAll("dialog[data-dialog]").forEach(function (dialog) {
      wireDialog(dialog);
      // A dialog that arrives in an htmx response and asks to be shown opens itself.
      if (dialog.hasAttribute("data-dialog-open-on-load") && !dialog.open) openDialog(dialog);
    });
  }

  /* ------------------------------------------------------ character counts -- */

  // A text with data-char-count="<id>" shows "used / limit" in that element (hidden
  // without JavaScript; its help says the limit).
  function paintCharCount(field) {
    var count = document.getElementById(field.getAttribute("data-char-count"));
    if (!count || !(field.maxLength > 0)) return;
    count.textContent = field.value.length + " / " + field.maxLength;
    count.hidden = false;
  }

  function paintCharCounts(scope) {
    (scope || document).querySelectorAll("[data-char-count]").forEach(paintCharCount);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-char-count]")) paintCharCount(target);
  });

  /* --------------------------------------------------------------- copying -- */

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain-http hosts have no Clipboard API; fall back to a hidden textarea.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      area.remove();
      if (ok) resolve();
      else reject(new Error("copy failed"));
    });
  }

  function textToCopy(button) {
    var selector = button.getAttribute("data-copy-target");
    if (selector) {
      var target = document.querySelector(selector);
      if (!target) return "";
      return "value" in target && typeof target.value === "string" ? target.value : target.textContent.trim();
    }
    return button.getAttribute("data-copy") || "";
  }

  /* --------------------------------------------------------------- messages -- */

  function dismiss(toast) {
    if (!toast || toast.classList.contains("is-leaving")) return;
    toast.classList.add("is-leaving");
    window.setTimeout(function () {
      toast.remove();
    }, 200);
  }

  // Success messages step aside on their own; warnings and errors stay until read.
  function scheduleAutodismiss(scope) {
    (scope || document).querySelectorAll("[data-autodismiss]").forEach(function (toast) {
      if (toast.dataset.autodismissScheduled) return;
      toast.dataset.autodismissScheduled = "true";
      var timer = null;
      function start() {
        timer = window.setTimeout(function () {
          dismiss(toast);
        }, 6000);
      }
      function stop() {
        window.clearTimeout(timer);
      }
      toast.addEventListener("mouseenter", stop);
      toast.addEventListener("focusin", stop);
      toast.addEventListener("mouseleave", start);
      start();
    });
  }

  /* ------------------------------------------------------------ avatars -- */

  // One person, one colour: hue from a stable hash of the name.
  function hueFor(text) {
    var hash = 0;
    for (var i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
    return Math.abs(hash) % 360;
  }

  function initialsFor(text) {
    var base = text.indexOf("@") > 0 ? text.slice(0, text.indexOf("@")).replace(/[._-]+/g, " ") : text;
    var words = base.trim().split(/\s+/).filter(Boolean);
    if (!words.length) return "?";
    var first = words[0].charAt(0);
    var last = words.length > 1 ? words[words.length - 1].charAt(0) : "";
    return (first + last).toUpperCase();
  }

  function paintAvatars(scope) {
    (scope || document).querySelectorAll("[data-avatar]").forEach(function (el) {
      var name = el.getAttribute("data-avatar") || "";
      el.style.setProperty("--avatar-hue", String(hueFor(name.toLowerCase())));
      // The server normally renders the initials; this covers markup that did not.
      if (!el.textContent.trim()) el.textContent = initialsFor(name);
    });
  }

  /* ------------------------------------------------------------ events -- */

  document.addEventListener("click", function (event) {
    var target = event.target;

    var sidebarToggle = target.closest("[data-sidebar-toggle]");
    if (sidebarToggle) {
      toggleSidebar();
      return;
    }

    var themeToggle = target.closest("[data-theme-toggle]");
    if (themeToggle) {
      setPreference("theme", root.dataset.theme === "light" ? "dark" : "light");
      return;
    }

    var densityToggle = target.closest("[data-density-toggle]");
    if (densityToggle) {
      setPreference("density", root.dataset.density === "compact" ? "comfy" : "compact");
      return;
    }

    var trigger = target.closest("[data-user-menu-trigger]");
    if (trigger) {
      var wrapper = trigger.closest("[data-user-menu]");
      if (openMenu && openMenu.wrapper === wrapper) hideMenu(true);
      else showMenu(wrapper, false);
      return;
    }

    if (openMenu) {
      if (!openMenu.panel.contains(target)) hideMenu(false);
      else if (target.closest('a[role="menuitem"]')) hideMenu(false);
    }

    var dialogOpener = target.closest("[data-dialog-open]");
    if (dialogOpener) {
      var dialog = document.getElementById(dialogOpener.getAttribute("data-dialog-open"));
      if (dialog) {
        // A link opener leads to the confirm page without JavaScript; here, the dialog.
        event.preventDefault();
        wireDialog(dialog);
        openDialog(dialog, dialogOpener);
      }
      return;
    }

    var drawerToggle = target.closest("[data-drawer-toggle]");
    if (drawerToggle) {
      if (root.dataset.drawer === "open") closeDrawer(true);
      else openDrawer();
      return;
    }
    if (target.closest("[data-drawer-scrim]")) {
      closeDrawer(true);
      return;
    }

    var dialogCloser = target.closest("[data-dialog-close]");
    if (dialogCloser) {
      var owner = dialogCloser.closest("dialog");
      if (owner) owner.close(dialogCloser.value || "");
      return;
    }

    // A click on the backdrop lands on the <dialog> itself, outside its box.
    if (target.matches && target.matches("dialog[data-dialog][open]")) {
      var box = target.getBoundingClientRect();
      var inside =
        event.clientX >= box.left &&
        event.clientX <= box.right &&
        event.clientY >= box.top &&
        event.clientY <= box.bottom;
      // Keyboard-activated clicks report 0,0; never treat those as backdrop clicks.
      if (!inside && (event.clientX !== 0 || event.clientY !== 0)) target.close("backdrop");
      return;
    }

    var copyButton = target.closest("[data-copy], [data-copy-target]");
    if (copyButton) {
      copyText(textToCopy(copyButton)).then(
        function () {
          copyButton.classList.add("is-copied");
          announce("Copied to clipboard");
          window.setTimeout(function () {
            copyButton.classList.remove("is-copied");
          }, 1600);
        },
        function () {
          announce("Could not copy; select the text and copy it by hand");
        }
      );
      return;
    }

    var dismissButton = target.closest("[data-dismiss]");
    if (dismissButton) dismiss(dismissButton.closest(".toast, .alert"));
  });

  // Is the person typing? Shortcuts never steal keys from a field.
  function isTyping(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
  }

  document.addEventListener("keydown", function (event) {
    var typing = isTyping(event.target);
    // Ctrl+[ / Cmd+[ toggles the sidebar. `code` covers layouts where "[" needs AltGr.
    if (
      (event.ctrlKey || event.metaKey) &&
      !event.altKey &&
      !event.shiftKey &&
      !typing &&
      (event.key === "[" || event.code === "BracketLeft")
    ) {
      event.preventDefault();
      toggleSidebar();
      return;
    }

    if (event.key === "Escape" && root.dataset.drawer === "open" && !document.querySelector("dialog[open]")) {
      event.preventDefault();
      closeDrawer(true);
      return;
    }

    // "/" jumps to the page's search box, "?" lists the shortcuts (never while typing).
    if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey && !document.querySelector("dialog[open]")) {
      if (event.key === "/") {
        var search = document.querySelector("[data-page-search]");
        if (search) {
          event.preventDefault();
          search.focus();
          search.select();
        }
        return;
      }
      if (event.key === "?") {
        var help = document.getElementById("shortcuts-dialog");
        if (help) {
          event.preventDefault();
          wireDialog(help);
          openDialog(help, document.activeElement);
        }
        return;
      }
    }

    if (openMenu) {
      switch (event.key) {
        case "Escape":
          event.preventDefault();
          hideMenu(true);
          return;
        case "ArrowDown":
          event.preventDefault();
          moveMenuFocus(1);
          return;
        case "ArrowUp":
          event.preventDefault();
          moveMenuFocus(-1);
          return;
        case "Home":
          event.preventDefault();
          moveMenuFocus(0, "first");
          return;
        case "End":
          event.preventDefault();
          moveMenuFocus(0, "last");
          return;
        case "Tab":
          hideMenu(false);
          return;
      }
    }

    // Arrow keys on a closed menu's trigger open it, as menu buttons do.
    var trigger = event.target.closest && event.target.closest("[data-user-menu-trigger]");
    if (trigger && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      showMenu(trigger.closest("[data-user-menu]"), event.key === "ArrowUp");
    }
  });

  // Leaving the page (or an htmx request replacing part of it) closes the menu.
  document.addEventListener("htmx:beforeRequest", function () {
    hideMenu(false);
  });
  window.addEventListener("pagehide", function () {
    hideMenu(false);
  });

  // Focus leaving the menu entirely (e.g. clicking into the page) closes it.
  document.addEventListener("focusin", function (event) {
    if (openMenu && !openMenu.wrapper.contains(event.target)) hideMenu(false);
  });

  /* ------------------------------------------------- focus after a swap -- */

  // One policy for every swap, so keyboard focus never drops to <body>:
  //  1. focus that survived the swap (a search box outside the results) stays;
  //  2. else the first invalid field of what arrived (a form with errors);
  //  3. else what the answer marked [data-swap-focus] (an action's outcome);
  //  4. else an [autofocus] control in it (a form that just opened);
  //  5. else the control the person was on, found again by id (a chip, a sort
  //     header, a page link);
  //  6. else the region that was replaced, made focusable for the purpose.
  var focusBefore = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    focusBefore = active && active !== document.body ? { id: active.id, el: active } : { id: "", el: null };
  });

  function focusable(el) {
    return el && document.contains(el) && el.offsetParent !== null && !el.disabled;
  }

  function placeFocus(region) {
    var before = focusBefore;
    focusBefore = null;
    if (!before || !region || !document.contains(region)) return;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var candidates = [
      region.querySelector('[aria-invalid="true"]'),
      region.querySelector("[data-swap-focus]"),
      region.querySelector("[autofocus]"),
      before.id ? document.getElementById(before.id) : null,
    ];
    for (var i = 0; i < candidates.length; i++) {
      if (focusable(candidates[i])) {
        candidates[i].focus();
        return;
      }
    }
    if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
    region.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    // An outerHTML swap replaced the target itself: look it up again by id.
    if (target && !document.contains(target) && target.id) target = document.getElementById(target.id);
    placeFocus(target);
  });

  /* ------------------------------------------------- failures of a swap -- */

  function toast(tone, text) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var box = document.createElement("div");
    box.className = "toast alert alert-" + tone;
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "toast");
    var body = document.createElement("div");
    body.className = "alert-body";
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-sm btn-icon toast-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    box.appendChild(body);
    box.appendChild(close);
    region.appendChild(box);
  }

  // A 5xx that a console view rendered on purpose (a form saying that an upstream such
  // as Authentik failed, with its words) carries `X-Console-Swap: error`: it swaps
  // like a 4xx. A bare 5xx (a crash, a proxy's error page) never does.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status >= 500 && xhr.getResponseHeader("X-Console-Swap") === "error") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // 5xx answers and lost connections swap nothing (the status policy in base.html);
  // say so instead of leaving the click without an answer.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    toast(
      "danger",
      "The console answered " + status + " and nothing was changed on this page. Try again; if it persists, reload."
    );
  });
  document.addEventListener("htmx:sendError", function () {
    toast("danger", "The console could not be reached. Check the connection and try again.");
  });

  /* ---------------------------------------------------------- the drawer -- */

  // On a phone the sidebar is an off-canvas drawer: opened from the top bar,
  // closed by its scrim, Escape or a navigation; focus goes in and comes back.
  function openDrawer() {
    root.dataset.drawer = "open";
    var scrim = document.querySelector("[data-drawer-scrim]");
    if (scrim) scrim.hidden = false;
    document.querySelectorAll("[data-drawer-toggle]").forEach(function (el) {
      el.setAttribute("aria-expanded", "true");
    });
    var first = document.querySelector("#sidebar a[aria-current='page']") || document.querySelector("#sidebar a");
    if (first) first.focus();
  }

  function closeDrawer(returnFocus) {
    if (root.dataset.drawer !== "open") return;
    delete root.dataset.drawer;
    var scrim = document.querySelector("[data-drawer-scrim]");
    if (scrim) scrim.hidden = true;
    document.querySelectorAll("[data-drawer-toggle]").forEach(function (el) {
      el.setAttribute("aria-expanded", "false");
      if (returnFocus) el.focus();
    });
  }

  narrowScreen.addEventListener("change", function () {
    if (!narrowScreen.matches) closeDrawer(false);
  });
  window.addEventListener("pagehide", function () {
    closeDrawer(false);
  });

  // A bar or meter says its share as data-pct; the CSP allows no style attributes,
  // so the share reaches the stylesheet as a custom property set from here.
  function paintShares(scope) {
    var found = Array.prototype.slice.call(scope.querySelectorAll("[data-pct]"));
    if (scope.matches && scope.matches("[data-pct]")) found.push(scope);
    found.forEach(function (el) {
      el.style.setProperty("--pct", el.getAttribute("data-pct") + "%");
    });
  }

  // New content from htmx: wire whatever it brought.
  document.addEventListener("htmx:load", function (event) {
    var scope = event.detail && event.detail.elt ? event.detail.elt : document;
    if (scope === document.body) scope = document;
    paintAvatars(scope);
    paintShares(scope);
    wireDialogs(scope);
    paintCharCounts(scope);
    scheduleAutodismiss(scope);
    syncControls();
  });

  /* -------------------------------------------------------------- start -- */

  function init() {
    paintAvatars(document);
    paintShares(document);
    wireDialogs(document);
    paintCharCounts(document);
    scheduleAutodismiss(document);
    syncControls();
    document.querySelectorAll("kbd[data-shortcut-mod], .sidebar-toggle kbd").forEach(function (kbd) {
      kbd.textContent = shortcutLabel() + " " + (kbd.getAttribute("data-shortcut-mod") || "[");
    });
    // Transitions only after the first paint, so restoring a state never animates.
    window.requestAnimationFrame(function () {
      root.classList.add("is-ready");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
