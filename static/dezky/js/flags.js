/*
 * Feature flags page: the few things htmx cannot do on its own.
 *
 * - The side panel: closing it (button, Escape) and the list URL that closing
 *   pushes, focus moving into it and back to the row, the selected row.
 * - Dirty tracking: the panel's values are compared with the hidden `base-*` inputs
 *   (the values it was rendered from), Save is enabled only when they differ, and
 *   anything that would drop unsaved changes asks first: the discard dialog for
 *   what happens in the page (closing, another flag, Back/Forward), the browser's
 *   own prompt for leaving it (reload, another page).
 * - The rollout slider mirrors its number box, which says what is wrong with it
 *   as the operator types ("Rollout %: must be between 0 and 100").
 * - Scope pickers: a combobox per picker (arrow keys, Enter, Escape) over the
 *   options the server sends; chips are added and removed here.
 *
 * htmx keeps no history snapshots on this console: Back, Forward and reload load
 * the URL as a whole page, so nothing here restores state.
 *
 * Everything is wired by delegation on `document`, so panels htmx swaps in later
 * need no re-binding.
 */
(function () {
  "use strict";

  var TRACKED = [
    "description",
    "state",
    "pct",
    "scope_plans",
    "scope_tenant_slugs",
    "scope_partner_slugs",
    "scope_environments",
  ];
  var SCOPE_EVENT = "flag-scope-changed";
  // A rule (state, rollout, scope, preview environment) changed: the preview listens
  // for this instead of an htmx trigger filter, which would need eval under the CSP.
  var RULE_EVENT = "flag-rule-changed";
  // Asks a picker's combobox for its options without typing (ArrowDown).
  var OPEN_EVENT = "chip-find-open";

  // The URL this page shows, to go back to when the operator keeps their edits after
  // Back or Forward; and whether the page is being left on purpose (no more prompts).
  var here = location.href;
  var leaving = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function panel() {
    var host = byId("flag-panel");
    return host ? host.querySelector("[data-flag-panel]") : null;
  }

  function flagForm() {
    return byId("flag-form");
  }

  /* ------------------------------------------------------------ dirty -- */

  function valuesOf(form, name) {
    var found = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      // Textareas report \n where the server's copy may hold \r\n.
      found.push(String(el.value).replace(/\r\n/g, "\n"));
    });
    return found.sort().join("\u0000");
  }

  function isDirty() {
    var form = flagForm();
    if (!form) return false;
    return TRACKED.some(function (name) {
      return valuesOf(form, name) !== valuesOf(form, "base-" + name);
    });
  }

  function syncDirty() {
    var form = flagForm();
    if (!form) return;
    var dirty = isDirty();
    form.classList.toggle("is-dirty", dirty);
    var save = form.querySelector("[data-save]");
    if (save) save.disabled = !dirty;
    form.querySelectorAll("[data-dirty-note], [data-discard]").forEach(function (el) {
      el.hidden = !dirty;
    });
  }

  // Runs `proceed` at once when nothing is unsaved, else after the operator agrees.
  function confirmDiscard(proceed, keep) {
    if (!isDirty()) {
      proceed();
      return;
    }
    var dialog = byId("discard-dialog");
    var opener = document.activeElement;
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue === "discard") {
        proceed();
        return;
      }
      if (keep) keep();
      if (opener && document.contains(opener) && typeof opener.focus === "function") opener.focus();
    });
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]");
    if (first) first.focus();
  }

  /* ------------------------------------------------------------ panel -- */

  function markSelected(key) {
    document.querySelectorAll("tr[data-flag-row]").forEach(function (row) {
      if (key && row.getAttribute("data-flag-row") === key) row.setAttribute("aria-selected", "true");
      else row.removeAttribute("aria-selected");
    });
  }

  function rowLink(key) {
    var row = key ? byId("flag-row-" + key) : null;
    return row ? row.querySelector("[data-panel-nav]") : null;
  }

  function searchBox() {
    return document.querySelector("[data-flags-page] [data-page-search]");
  }

  // The list's URL with the list's state (search, sort, page) of the current one.
  function listUrl() {
    var page = document.querySelector("[data-flags-page]");
    if (!page) return null;
    var params = new URLSearchParams(location.search);
    params.delete("new");
    var query = params.toString();
    return page.getAttribute("data-list-url") + (query ? "?" + query : "");
  }

  function closePanel() {
    var current = panel();
    if (!current) return;
    var key = current.getAttribute("data-key");
    byId("flag-panel").innerHTML = "";
    markSelected(null);
    var url = listUrl();
    // Marked as htmx's, so Back to the flag's URL reloads that page (see base.html).
    if (url && location.pathname + location.search !== url) {
      history.pushState({ htmx: true }, "", url);
      here = location.href;
    }
    var back = rowLink(key) || searchBox();
    if (back) back.focus();
  }

  function paintSlider(slider) {
    slider.style.setProperty("--pct", slider.value + "%");
  }

  function panelArrived() {
    var current = panel();
    markSelected(current ? current.getAttribute("data-key") : null);
    if (!current) {
      // The flag was deleted: its row is gone too.
      var search = searchBox();
      if (search) search.focus();
      return;
    }
    current.querySelectorAll("[data-pct-slider]").forEach(paintSlider);
    syncDirty();
    // An opened panel takes focus (the row link that opened it stays in the list);
    // a refused save focuses the first invalid field, a lost race its alert.
    var target =
      current.querySelector('[aria-invalid="true"]') ||
      current.querySelector("[data-swap-focus]") ||
      byId("flag-panel-title");
    if (target) target.focus();
  }

  /* ---------------------------------------------------------- rollout -- */

  // The same words the server uses (the form's error messages, rendered as data-*).
  function pctProblem(input) {
    if (input.validity.badInput) return input.getAttribute("data-error-invalid");
    var raw = input.value.trim();
    if (raw === "") return input.getAttribute("data-error-required");
    var pct = Number(raw);
    if (!Number.isInteger(pct)) return input.getAttribute("data-error-invalid");
    if (pct < 0 || pct > 100) return input.getAttribute("data-error-range");
    return "";
  }

  function iconSprite() {
    var use = document.querySelector("svg.icon use");
    return use ? use.getAttribute("href").split("#")[0] : "";
  }

  // Written like the {% field_errors %} component, with the same id, so the input's
  // aria-describedby reads the message whether the browser or the server found it.
  function showPctProblem(input) {
    var slot = input.closest(".rollout-field").querySelector("[data-pct-errors]");
    if (!slot) return;
    var problem = pctProblem(input);
    slot.textContent = "";
    if (!problem) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      return;
    }
    var id = input.id + "-errors";
    var box = document.createElement("div");
    box.className = "field-errors";
    box.id = id;
    box.setAttribute("data-testid", id);
    var line = document.createElement("p");
    line.className = "field-error";
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", iconSprite() + "#i-circle-alert");
    svg.appendChild(use);
    var text = document.createElement("span");
    text.textContent = input.getAttribute("data-label") + ": " + problem;
    line.appendChild(svg);
    line.appendChild(text);
    box.appendChild(line);
    slot.appendChild(box);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
  }

  /* ----------------------------------------------- scope pickers (combobox) -- */

  function picker(el) {
    return el.closest("[data-chip-picker]");
  }

  function findOf(box) {
    return box.querySelector("[data-chip-find]");
  }

  function optionsOf(box) {
    return Array.prototype.slice.call(box.querySelectorAll('[data-chip-options] [role="option"]'));
  }

  function isOpen(box) {
    return findOf(box).getAttribute("aria-expanded") === "true";
  }

  function syncExpanded(box) {
    var container = box.querySelector("[data-chip-options]");
    var open = Boolean(container && container.firstElementChild);
    var find = findOf(box);
    find.setAttribute("aria-expanded", String(open));
    if (!open) find.removeAttribute("aria-activedescendant");
  }

  function setActive(box, option) {
    var find = findOf(box);
    optionsOf(box).forEach(function (el) {
      el.setAttribute("aria-selected", String(el === option));
    });
    if (option) {
      find.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      find.removeAttribute("aria-activedescendant");
    }
  }

  function activeOption(box) {
    var id = findOf(box).getAttribute("aria-activedescendant");
    return id ? byId(id) : null;
  }

  // Closed stays closed until the operator types (or asks with ArrowDown): an answer
  // still on its way is dropped, and focusing the box again does not reopen it.
  function closeOptions(box) {
    var find = findOf(box);
    find.setAttribute("data-closed", "");
    if (window.htmx) window.htmx.trigger(find, "htmx:abort");
    var container = box.querySelector("[data-chip-options]");
    if (container) container.innerHTML = "";
    syncExpanded(box);
  }

  function openOptions(box) {
    var find = findOf(box);
    find.removeAttribute("data-closed");
    if (window.htmx) window.htmx.trigger(find, OPEN_EVENT);
  }

  function scopeChanged() {
    syncDirty();
    var form = flagForm();
    if (form) form.dispatchEvent(new CustomEvent(SCOPE_EVENT, { bubbles: true }));
  }

  function addChip(box, value) {
    var list = box.querySelector("[data-chips]");
    var already = Array.prototype.some.call(list.querySelectorAll("input"), function (input) {
      return input.value === value;
    });
    if (!already) {
      var chip = box.querySelector("template[data-chip-template]").content.firstElementChild.cloneNode(true);
      chip.querySelector("input").value = value;
      chip.querySelector("[data-chip-value]").textContent = value;
      chip.querySelector("[data-chip-remove]").setAttribute("aria-label", "Remove " + value);
      list.appendChild(chip);
      scopeChanged();
    }
    var find = findOf(box);
    find.value = "";
    closeOptions(box);
    find.focus();
  }

  function removeChip(button) {
    var chip = button.closest("[data-chip]");
    var box = picker(chip);
    var next = chip.nextElementSibling || chip.previousElementSibling;
    chip.remove();
    scopeChanged();
    var focus = next ? next.querySelector("[data-chip-remove]") : findOf(box);
    if (focus) focus.focus();
  }

  function moveActive(box, step) {
    var options = optionsOf(box);
    if (!options.length) return;
    var at = options.indexOf(activeOption(box));
    var next = at < 0 ? (step > 0 ? 0 : options.length - 1) : at + step;
    setActive(box, options[Math.max(0, Math.min(options.length - 1, next))]);
  }

  // Returns true when the key was the combobox's.
  function comboboxKey(event, find) {
    var box = picker(find);
    var open = isOpen(box);
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (open) moveActive(box, 1);
        else openOptions(box);
        return true;
      case "ArrowUp":
        if (!open) return false;
        event.preventDefault();
        moveActive(box, -1);
        return true;
      case "Enter": {
        // Never submits the panel's form.
        event.preventDefault();
        var option = activeOption(box) || optionsOf(box)[0];
        if (open && option) addChip(box, option.getAttribute("data-chip-add"));
        return true;
      }
      case "Escape":
        // Closes the options, "no match" included, or stops an answer on its way;
        // with nothing open, Escape goes on to close the panel.
        if (!open && !find.classList.contains("htmx-request")) return false;
        event.preventDefault();
        closeOptions(box);
        return true;
      case "Tab":
        if (open) closeOptions(box);
        return false;
    }
    return false;
  }

  /* ----------------------------------------------------------- events -- */

  // An option is not focusable: pressing it must not move focus out of the
  // combobox (which would close the options before the click lands).
  document.addEventListener("mousedown", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-chip-add]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    if (target.closest("[data-panel-close]")) {
      confirmDiscard(closePanel);
      return;
    }

    var add = target.closest("[data-chip-add]");
    if (add) {
      addChip(picker(add), add.getAttribute("data-chip-add"));
      return;
    }

    var remove = target.closest("[data-chip-remove]");
    if (remove) {
      removeChip(remove);
      return;
    }

    // A click anywhere on a row opens it, as its key link does (which stays the
    // keyboard's and the screen reader's way in).
    var row = target.closest("tr[data-flag-row]");
    if (row && !target.closest("a, button, input, select, textarea, label")) {
      var link = row.querySelector("[data-panel-nav]");
      if (link) link.click();
    }
  });

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches("[data-chip-find]")) {
      // Typing reopens a picker that Escape closed.
      target.removeAttribute("data-closed");
      return;
    }
    var form = target.closest("#flag-form");
    if (!form) return;
    if (target.matches("[data-pct-slider]")) {
      var number = form.querySelector("[data-pct-input]");
      if (number) {
        number.value = target.value;
        showPctProblem(number);
      }
      paintSlider(target);
    } else if (target.matches("[data-pct-input]")) {
      showPctProblem(target);
      var slider = form.querySelector("[data-pct-slider]");
      var pct = parseInt(target.value, 10);
      if (slider && !isNaN(pct)) {
        slider.value = String(Math.max(0, Math.min(100, pct)));
        paintSlider(slider);
      }
    }
    if (target.matches("[data-rule]")) form.dispatchEvent(new CustomEvent(RULE_EVENT, { bubbles: true }));
    syncDirty();
  });

  document.addEventListener("change", function (event) {
    if (event.target instanceof Element && event.target.closest("#flag-form")) syncDirty();
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var find = target && target.closest("[data-chip-find]");
    if (find && comboboxKey(event, find)) return;

    if (event.key !== "Escape" || event.defaultPrevented) return;
    // Open dialogs close themselves on Escape; the panel waits its turn.
    if (document.querySelector("dialog[open]")) return;
    if (!panel()) return;
    event.preventDefault();
    confirmDiscard(closePanel);
  });

  // Options close when focus leaves their picker.
  document.addEventListener("focusout", function (event) {
    var box = event.target instanceof Element ? picker(event.target) : null;
    if (!box) return;
    window.setTimeout(function () {
      if (!box.contains(document.activeElement) && isOpen(box)) closeOptions(box);
    }, 0);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    // Options that arrive after the picker was closed stay unshown.
    if (target && target.matches("[data-chip-options]")) {
      var find = findOf(picker(target));
      if (find.hasAttribute("data-closed") || document.activeElement !== find) event.detail.shouldSwap = false;
    }
  });

  // Anything that would replace a panel holding unsaved changes asks first.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (!elt || !panel() || elt.closest("[data-skip-dirty-check]")) return;
    var replacesPanel = elt.hasAttribute("data-panel-nav") || elt.id === "new-flag-form";
    if (!replacesPanel || !isDirty()) return;
    event.preventDefault();
    confirmDiscard(function () {
      event.detail.issueRequest(true);
    });
  });

  // Back or Forward: htmx reloads the page of the URL it arrived at (base.html).
  // With unsaved edits, ask here first; keeping them puts the panel's URL back.
  // TRICKY: registered before htmx sets window.onpopstate (on DOMContentLoaded), so
  // this runs first and can stop it.
  window.addEventListener("popstate", function (event) {
    if (leaving || !isDirty()) return;
    event.stopImmediatePropagation();
    confirmDiscard(
      function () {
        leaving = true;
        location.reload();
      },
      function () {
        history.pushState({ htmx: true }, "", here);
      }
    );
  });

  window.addEventListener("beforeunload", function (event) {
    if (!leaving && isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.addEventListener("htmx:pushedIntoHistory", function () {
    here = location.href;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "flag-panel") panelArrived();
    if (target.matches("[data-chip-options]")) {
      syncExpanded(picker(target));
      // The pickers sit low in the panel: bring the options into view.
      if (target.firstElementChild) target.scrollIntoView({ block: "nearest" });
    }
    if (target.id === "new-flag-key-feedback") {
      var input = byId("new-flag-key");
      if (input) {
        if (target.querySelector(".field-error")) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
  });

  // /flags/?new=1 opened the dialog on load; once it closes, the URL is the list's.
  document.addEventListener(
    "close",
    function (event) {
      if (!(event.target instanceof Element) || event.target.id !== "new-flag-dialog") return;
      var params = new URLSearchParams(location.search);
      if (!params.has("new")) return;
      params.delete("new");
      var query = params.toString();
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : ""));
      here = location.href;
    },
    true
  );

  function init() {
    var current = panel();
    markSelected(current ? current.getAttribute("data-key") : null);
    document.querySelectorAll("[data-pct-slider]").forEach(paintSlider);
    syncDirty();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
