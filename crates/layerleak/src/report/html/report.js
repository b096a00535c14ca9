"use strict";
// Sorts and filters the findings tables; every row is in the markup, so the report reads the
// same without this script. It reads the DOM only and writes text, never markup.
(function () {
  var root = document.documentElement;
  document.addEventListener("securitypolicyviolation", function (e) {
    var seen = root.getAttribute("data-csp-violation") || "";
    root.setAttribute("data-csp-violation", seen + e.violatedDirective + " " + e.blockedURI + "\n");
  });
  var FILTERS = [["status", "status"], ["sev", "severity"], ["rule", "rule"]];
  function enhance(table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var bar = document.createElement("div");
    bar.className = "filters";
    var count = document.createElement("span");
    var picks = FILTERS.map(function (f) {
      var values = {};
      rows.forEach(function (r) { values[r.getAttribute("data-" + f[0])] = true; });
      var select = document.createElement("select");
      select.appendChild(new Option("every " + f[1], ""));
      Object.keys(values).sort().forEach(function (v) { select.appendChild(new Option(v, v)); });
      select.addEventListener("change", apply);
      var label = document.createElement("label");
      label.appendChild(select);
      bar.appendChild(label);
      return [f[0], select];
    });
    bar.appendChild(count);
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = picks.every(function (p) { return !p[1].value || r.getAttribute("data-" + p[0]) === p[1].value; });
        r.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    apply();
    table.parentNode.parentNode.insertBefore(bar, table.parentNode);
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sort(th, col); });
    });
    function sort(th, col) {
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      var keyed = rows.map(function (r, i) {
        var cell = r.cells[col], k = cell.getAttribute("data-k");
        return [k === null ? cell.textContent : Number(k), i, r];
      });
      keyed.sort(function (a, b) {
        var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
        return c ? c * dir : a[1] - b[1];
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (x) { frag.appendChild(x[2]); });
      body.appendChild(frag);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.findings"), enhance);
  });
})();
