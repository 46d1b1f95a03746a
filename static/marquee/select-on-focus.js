/* A field marked data-select-on-focus selects its whole value when focused (the API key shown
   once in the admin), so it copies in one go. A file, not an onfocus attribute: the
   Content-Security-Policy runs no inline script. */
document.addEventListener("focusin", function (event) {
  "use strict";
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
});
