/* Thriving Pathways: keyboard and screen-reader fixes for the components Dash ships.
 *
 * - Dash's RadioItems and Checklist mark their options role="option" inside role="listbox"
 *   around real radio buttons and checkboxes (nested interactive controls, a listbox with no
 *   name): the roles are dropped, so each control is announced by its own label and the group
 *   by its fieldset's legend.
 * - Radio and checkbox groups get type-ahead: typing the start of a label moves to it (and
 *   picks it, for a radio group, as the arrow keys do).
 * - AG Grid's grid element takes its name from the region around it; Enter on a row selects
 *   it, as Space does.
 */
(function () {
  "use strict";

  function tidy(root) {
    root.querySelectorAll(".dash-options-list[role]").forEach(function (el) {
      el.removeAttribute("role");
    });
    root.querySelectorAll(".dash-options-list-option[role], .dash-options-list-option[aria-selected]").forEach(function (el) {
      el.removeAttribute("role");
      el.removeAttribute("aria-selected");
    });
    root.querySelectorAll(".grid-region[aria-label]").forEach(function (region) {
      var grid = region.querySelector("[role=grid], [role=treegrid]");
      if (grid && grid.getAttribute("aria-label") !== region.getAttribute("aria-label")) {
        grid.setAttribute("aria-label", region.getAttribute("aria-label"));
      }
    });
  }

  // At once (mutation records arrive before the next task), so nothing reads the old roles.
  new MutationObserver(function () { tidy(document); }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                         attributeFilter: ["role", "aria-selected"]});

  var typed = "", typedAt = 0, typedIn = null;

  function typeAhead(event) {
    var input = event.target;
    var list = input.closest(".dash-options-list");
    if (!list || event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === " " && !typed) { return; }  // Space toggles, as always
    var now = Date.now();
    typed = (now - typedAt > 800 || typedIn !== list ? "" : typed) + event.key.toLowerCase();
    typedAt = now;
    typedIn = list;
    var inputs = Array.prototype.slice.call(list.querySelectorAll("input"));
    var start = typed.length === 1 ? inputs.indexOf(input) + 1 : inputs.indexOf(input);
    for (var i = 0; i < inputs.length; i++) {
      var candidate = inputs[(start + i) % inputs.length];
      var label = candidate.closest("label");
      if (label && label.textContent.trim().toLowerCase().indexOf(typed) === 0) {
        event.preventDefault();
        candidate.focus();
        if (candidate.type === "radio" && !candidate.checked) { candidate.click(); }
        return;
      }
    }
  }

  function enterSelects(event) {
    var cell = event.target.closest(".grid.selectable .ag-cell");
    var row = cell && cell.closest(".ag-row");
    var grid = cell && cell.closest(".grid.selectable");
    if (!row || !grid || !grid.id || !window.dash_ag_grid) { return; }
    var api = window.dash_ag_grid.getApi(grid.id);
    var node = api && api.getRowNode(row.getAttribute("row-id"));
    if (node) {
      event.preventDefault();
      node.setSelected(true, true);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.target.matches && event.target.matches(".dash-options-list input")) {
      typeAhead(event);
    } else if (event.key === "Enter" && event.target.closest) {
      enterSelects(event);
    }
  }, true);
})();
