// Sortable tables, Plotly charts from embedded JSON, and self-submitting selects.
(function () {
  "use strict";

  function sortTable(table, index, header) {
    var numeric = header.dataset.type === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
      if (x === "" || y === "") { return (x === "") - (y === ""); }  // blanks last
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function setUpTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        var button = th.querySelector("button");
        if (button) {
          button.addEventListener("click", function () { sortTable(table, index, th); });
        }
      });
    });
  }

  function drawFigures() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (div) {
      var source = document.getElementById(div.dataset.figure);
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(div, figure.data, figure.layout, {
        responsive: true, displaylogo: false,
        displayModeBar: window.innerWidth > 600 ? "hover" : false,  // on a phone it covers buttons
        modeBarButtonsToRemove: ["select2d", "lasso2d"]
      });
    });
  }

  function setUpSelects() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpTables();
    setUpSelects();
    drawFigures();
  });
})();
