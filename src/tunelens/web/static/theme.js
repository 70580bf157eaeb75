// Runs in <head> before the page paints, so the chosen theme never flashes.
// The visitor's stored choice wins; otherwise dark (the default docs/web.md promises, whatever
// the system's colour scheme: the toggle in the header switches and remembers).
(function () {
  "use strict";
  var theme = null;
  try {
    theme = window.localStorage.getItem("tunelens-theme");
  } catch (e) {
    theme = null;
  }
  document.documentElement.setAttribute("data-theme", theme === "light" ? "light" : "dark");
})();
