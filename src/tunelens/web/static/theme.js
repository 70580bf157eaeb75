// Runs in <head> before the page paints, so the chosen theme never flashes.
// A stored choice wins; otherwise the system's prefers-color-scheme; otherwise dark.
(function () {
  "use strict";
  var theme = null;
  try {
    theme = window.localStorage.getItem("tunelens-theme");
  } catch (e) {
    theme = null;
  }
  if (theme !== "light" && theme !== "dark") {
    var prefersLight =
      window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches;
    theme = prefersLight ? "light" : "dark";
  }
  document.documentElement.setAttribute("data-theme", theme);
})();
