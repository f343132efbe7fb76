// Loaded synchronously in <head> (a static file, so the Content-Security-Policy
// needs no 'unsafe-inline'): it runs before the first paint so a remembered theme,
// density or sidebar state never flashes in after the page has drawn with the defaults.
// Without a remembered theme, the operating system's light or dark preference wins.
(function (root) {
  var theme = null;
  try {
    var store = window.localStorage;
    theme = store.getItem("dezky.theme");
    root.dataset.density = store.getItem("dezky.density") === "compact" ? "compact" : "comfy";
    root.dataset.sidebar = store.getItem("dezky.sidebar") === "collapsed" ? "collapsed" : "expanded";
  } catch (error) {
    // Storage can be blocked (privacy modes); the defaults on <html> stand.
  }
  if (theme !== "light" && theme !== "dark") {
    var light = window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches;
    theme = light ? "light" : "dark";
  }
  root.dataset.theme = theme;
})(document.documentElement);
