/* Thriving Pathways: network views fit what matters (see pages/_network.py).
 *
 * After each layout (the drawing callbacks run one per new set of elements), and after a new
 * highlight on the same elements (only their classes change), the view fits the highlighted
 * nodes (class "selected"), else every node that is not dimmed, so the labels of
 * the route or gap being shown are readable at once instead of the whole network shrunk to
 * fit.  The zoom stops at READABLE, so a single highlighted node is not blown up.
 *
 * dash-cytoscape hands every graph it creates to window.cy; a property setter there attaches
 * the handler to each graph as it is created, before its first layout.
 */
(function () {
  "use strict";

  var READABLE = 1.4;
  var PADDING = 36;
  var latest = window.cy;

  function fitHighlighted(cy) {
    if (!cy || cy.destroyed()) { return; }
    var nodes = cy.nodes();
    var focus = nodes.filter(".selected");
    if (focus.empty()) { focus = nodes.not(".dim"); }
    if (focus.empty()) { return; }
    cy.fit(focus, PADDING);
    if (cy.zoom() > READABLE) {
      cy.zoom(READABLE);
      cy.center(focus);
    }
  }

  function watch(cy) {
    if (!cy || cy.__pathwaysFit) { return; }
    cy.__pathwaysFit = true;
    cy.on("layoutstop", function () { fitHighlighted(cy); });
    // A new highlight on the same elements changes classes only (no new layout): fit once
    // the classes have settled.
    var timer = null;
    cy.on("class", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(function () { timer = null; fitHighlighted(cy); }, 30);
    });
  }

  watch(latest);
  Object.defineProperty(window, "cy", {
    configurable: true,
    get: function () { return latest; },
    set: function (cy) { latest = cy; watch(cy); }
  });

  window.pathwaysNetwork = {fit: fitHighlighted};
})();
