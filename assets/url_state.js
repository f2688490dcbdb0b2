/* Thriving Pathways: each page's filters in its address (see pages/_state.py).
 *
 * write(search, push) puts a page's applied filters into the address: pushState for a change
 * the person made (Back returns to the previous filters), replaceState when the page appears.
 *
 * Back and Forward: Dash's router draws the page again when its location component sees the
 * address change, but that component only knows the addresses it saw itself (page loads,
 * links, Back), not the ones written here.  So Back from the second filters to the first,
 * when the first is the address the page was opened with, looks like "no change" to it and
 * the page would keep showing the second filters.  In that one case this script tells the
 * router itself (the same update the location component makes), so the page is drawn from
 * the popped address every time.  And the other way round: when the address popped (or
 * pushed by a link) is the one the page already shows, e.g. after the skip link changed only
 * the hash, the location component would redraw the page for nothing, losing what the person
 * was doing; that event stops here.
 */
(function () {
  "use strict";

  function here() { return window.location.pathname + window.location.search; }

  var routed = here();  // the address Dash's location component last saw
  var shown = here();   // the address whose filters the page shows

  function settle(event) {
    var now = here();
    if (now === shown) {
      // The page already shows this address (only the hash changed, e.g. the skip link, or a
      // link to the page as it is): a redraw would throw away what the person is doing.
      if (now !== routed) { event.stopImmediatePropagation(); }
      return;
    }
    if (now === routed && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("_pages_location", {
        pathname: window.location.pathname, search: window.location.search
      });
    }
    routed = now;
    shown = now;
  }

  // Registered before the location component mounts, so these run first: settle() acts when
  // the component will not, and stops it when it should not.
  window.addEventListener("popstate", settle);
  window.addEventListener("_dashprivate_pushstate", settle);

  window.pathwaysUrlState = {
    write: function (search, push) {
      if (typeof search !== "string" || (search !== "" && search.charAt(0) !== "?")) { return; }
      if (window.location.search !== search) {
        var address = window.location.pathname + search + window.location.hash;
        if (push) {
          window.history.pushState({}, "", address);
        } else {
          window.history.replaceState(window.history.state, "", address);
        }
      }
      shown = here();
    }
  };
})();
