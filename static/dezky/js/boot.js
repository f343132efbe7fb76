// Loaded synchronously in <head> (a static file, so the Content-Security-Policy
// needs no 'unsafe-inline'): it runs before the first paint so a remembered theme,
// density or sidebar state never flashes in after the page has drawn with the defaults.
(function (root) {
  try {
    var store = window.localStorage;
    root.dataset.theme = store.getItem("dezky.theme") === "light" ? "light" : "dark";
    root.dataset.density = store.getItem("dezky.density") === "compact" ? "compact" : "comfy";
    root.dataset.sidebar = store.getItem("dezky.sidebar") === "collapsed" ? "collapsed" : "expanded";
  } catch (error) {
    // Storage can be blocked (privacy modes); the defaults on <html> stand.
  }
})(document.documentElement);
