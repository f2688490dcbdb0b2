/* The Data page's file upload (dcc.Upload) renders a hidden <input type=file> with no name:
   give it one, so screen readers and axe know what it is for.  The visible "Choose files"
   button next to it is what keyboard users press (its click opens the same chooser). */
(function () {
  function label(root) {
    root.querySelectorAll(".upload-box input[type=file]:not([aria-label])").forEach(function (input) {
      input.setAttribute("aria-label", "Files to upload");
    });
  }
  new MutationObserver(function () { label(document); })
    .observe(document.documentElement, {childList: true, subtree: true});
})();
