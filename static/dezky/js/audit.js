/*
 * The audit page's export with a progress bar.
 *
 * An export link ([data-audit-export]) downloads normally without JavaScript. Here it
 * is fetched as a stream: the response's X-Audit-Export-Rows says how many rows are
 * coming, each newline read is a row, and a <progress> (with its text in a status
 * region for screen readers) shows how far it is; at the end the body is saved as a
 * file under the name the server gave. A failure says so and leaves the link as is.
 */
(function () {
  "use strict";

  var busy = false;

  function filenameOf(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : fallback;
  }

  function show(panel, bar, text, done, total) {
    panel.hidden = false;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(done, total);
      text.textContent = "Exported " + done.toLocaleString() + " of " + total.toLocaleString() + " events";
    } else {
      bar.removeAttribute("value");
      text.textContent = "Exported " + done.toLocaleString() + " events";
    }
  }

  function countNewlines(chunk) {
    var n = 0;
    for (var i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++;
    return n;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  }

  function exportWithProgress(link) {
    var results = link.closest("#audit-results") || document;
    var panel = results.querySelector("[data-audit-progress]");
    if (!panel || !window.fetch || !window.ReadableStream) return false;
    var bar = panel.querySelector("progress");
    var text = panel.querySelector("[data-audit-progress-text]");
    var format = link.getAttribute("data-audit-export");
    // The CSV's first line is its header, not an event.
    var headerLines = format === "csv" ? 1 : 0;
    busy = true;
    link.setAttribute("aria-disabled", "true");
    show(panel, bar, text, 0, 0);
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "*/*" } })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error("status " + response.status);
        var total = parseInt(response.headers.get("X-Audit-Export-Rows") || "0", 10) || 0;
        var name = filenameOf(response, "audit-events." + format);
        var reader = response.body.getReader();
        var parts = [];
        var lines = 0;
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) return;
            parts.push(step.value);
            lines += countNewlines(step.value);
            show(panel, bar, text, Math.max(0, lines - headerLines), total);
            return pump();
          });
        }
        return pump().then(function () {
          save(new Blob(parts, { type: response.headers.get("Content-Type") || "" }), name);
          var rows = Math.max(0, lines - headerLines);
          show(panel, bar, text, rows, rows);
          text.textContent = "Export finished: " + rows.toLocaleString() + " events saved as " + name;
        });
      })
      .catch(function (error) {
        text.textContent = "The export failed (" + error.message + "). Try again, or use the link without JavaScript.";
      })
      .then(function () {
        busy = false;
        link.removeAttribute("aria-disabled");
      });
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-audit-export]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (busy) {
      event.preventDefault();
      return;
    }
    if (exportWithProgress(link)) event.preventDefault();
  });
})();
