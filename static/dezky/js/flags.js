/*
 * Feature flags page: the few things htmx cannot do on its own.
 *
 * - The side panel: closing it (button, Escape), the URL that deep-links to it,
 *   focus moving into it and back to the row, the selected row.
 * - Dirty tracking: the panel's values are compared with the hidden `base-*` inputs
 *   (the values it was rendered from), Save is enabled only when they differ, and
 *   anything that would drop unsaved changes asks first.
 * - The rollout slider mirrors its number box; scope chips are added and removed.
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
    if (!dialog) {
      if (window.confirm("Discard unsaved changes?")) proceed();
      else if (keep) keep();
      return;
    }
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

  function listUrl() {
    var page = document.querySelector("[data-flags-page]");
    if (!page) return null;
    var search = byId("flag-search");
    var q = search && search.value.trim();
    return page.getAttribute("data-list-url") + (q ? "?q=" + encodeURIComponent(q) : "");
  }

  function closePanel() {
    var current = panel();
    if (!current) return;
    var key = current.getAttribute("data-key");
    byId("flag-panel").innerHTML = "";
    markSelected(null);
    var url = listUrl();
    // Marked as htmx's own entry, so Back to the flag is restored by htmx from the server.
    if (url && location.pathname + location.search !== url) history.pushState({ htmx: true }, "", url);
    var back = rowLink(key) || byId("flag-search");
    if (back) back.focus();
  }

  function paintSlider(slider) {
    slider.style.setProperty("--pct", slider.value + "%");
  }

  function panelArrived(focus) {
    var current = panel();
    markSelected(current ? current.getAttribute("data-key") : null);
    if (!current) {
      var search = byId("flag-search");
      if (focus && search) search.focus();
      return;
    }
    current.querySelectorAll("[data-pct-slider]").forEach(paintSlider);
    syncDirty();
    if (!focus) return;
    var target =
      current.querySelector('[aria-invalid="true"]') ||
      current.querySelector("[data-testid='conflict']") ||
      byId("flag-panel-title");
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  /* ------------------------------------------------------------ chips -- */

  function picker(el) {
    return el.closest("[data-chip-picker]");
  }

  function clearOptions(box) {
    var options = box.querySelector("[data-chip-options]");
    if (options) options.innerHTML = "";
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
    var find = box.querySelector("[data-chip-find]");
    find.value = "";
    clearOptions(box);
    find.focus();
  }

  function removeChip(button) {
    var chip = button.closest("[data-chip]");
    var box = picker(chip);
    var next = chip.nextElementSibling || chip.previousElementSibling;
    chip.remove();
    scopeChanged();
    var focus = next ? next.querySelector("[data-chip-remove]") : box.querySelector("[data-chip-find]");
    if (focus) focus.focus();
  }

  function optionButtons(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[data-chip-add]"));
  }

  /* ----------------------------------------------------------- events -- */

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
    var form = target.closest("#flag-form");
    if (!form) return;
    if (target.matches("[data-pct-slider]")) {
      var number = form.querySelector("[data-pct-input]");
      if (number) number.value = target.value;
      paintSlider(target);
    } else if (target.matches("[data-pct-input]")) {
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

    // Chip search: Enter adds the first match (instead of submitting the form),
    // arrows walk the matches, Escape closes them.
    var find = target && target.closest("[data-chip-find]");
    var option = target && target.closest("[data-chip-add]");
    if (find || option) {
      var box = picker(target);
      var buttons = optionButtons(box);
      if (event.key === "Enter" && find) {
        event.preventDefault();
        if (buttons.length) addChip(box, buttons[0].getAttribute("data-chip-add"));
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!buttons.length) return;
        event.preventDefault();
        var at = option ? buttons.indexOf(option) : -1;
        var next = at + (event.key === "ArrowDown" ? 1 : -1);
        if (next < 0) box.querySelector("[data-chip-find]").focus();
        else buttons[Math.min(next, buttons.length - 1)].focus();
        return;
      }
      if (event.key === "Escape" && buttons.length + box.querySelectorAll(".chip-options-empty").length) {
        event.preventDefault();
        clearOptions(box);
        box.querySelector("[data-chip-find]").focus();
        return;
      }
    }

    if (event.key !== "Escape" || event.defaultPrevented) return;
    // Open dialogs close themselves on Escape; the panel waits its turn.
    if (document.querySelector("dialog[open]")) return;
    if (!panel()) return;
    event.preventDefault();
    confirmDiscard(closePanel);
  });

  // Matches close when focus leaves their picker.
  document.addEventListener("focusout", function (event) {
    var box = event.target instanceof Element ? picker(event.target) : null;
    if (!box) return;
    window.setTimeout(function () {
      if (!box.contains(document.activeElement)) clearOptions(box);
    }, 0);
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

  // Back/Forward to another URL while the panel holds unsaved changes.
  document.addEventListener("htmx:historyCacheMiss", function (event) {
    var current = panel();
    if (!current || !isDirty()) return;
    event.preventDefault();
    var stay = current.getAttribute("data-detail-url");
    confirmDiscard(
      function () {
        event.detail.xhr.send();
      },
      function () {
        history.pushState({ htmx: true }, "", stay);
      }
    );
  });

  window.addEventListener("beforeunload", function (event) {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "flag-panel") panelArrived(true);
    if (target.id === "new-flag-key-feedback") {
      var input = byId("new-flag-key");
      if (input) {
        if (target.querySelector(".field-error")) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
  });

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    // The new-flag form came back with errors: focus the first field named in them.
    if (elt && elt.id === "new-flag-form") {
      var invalid = elt.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
    }
  });

  document.addEventListener("htmx:historyRestore", function () {
    panelArrived(false);
  });

  function init() {
    panelArrived(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
