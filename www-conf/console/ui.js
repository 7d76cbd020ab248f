/*
 * ui.js: the console's building blocks: elements, messages, the confirmation dialog, the small
 * rate charts (inline SVG drawn from successive polls) and CSV files. No view logic here.
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.ui = (function () {
  var SVG = "http://www.w3.org/2000/svg";

  /* el("p", {class: "x", text: "hi"}, [children]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    attrs = attrs || {};
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "on") Object.keys(v).forEach(function (ev) { node.addEventListener(ev, v[ev]); });
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  /*
   * Redraw box with draw() and give the focus back to the same control when it was inside box
   * (a view that refreshes itself must not pull the focus from under a keyboard user): the same
   * id, or else the link to the same address.
   */
  function redraw(box, draw) {
    var active = document.activeElement;
    var inside = active && active !== box && box.contains(active);
    var id = inside ? active.id : "";
    var href = inside && active.tagName === "A" ? active.getAttribute("href") : null;
    draw();
    if (!inside) return;
    var again = id ? document.getElementById(id) : null;
    if (!again && href !== null) {
      again = Array.prototype.filter.call(box.querySelectorAll("a[href]"), function (a) {
        return a.getAttribute("href") === href;
      })[0];
    }
    if (again && again.focus && !again.disabled) again.focus();
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function say(text) {
    document.getElementById("status").textContent = text;
  }

  function showError(err) {
    var box = document.getElementById("error");
    if (!err) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    box.textContent = String(err);
    box.hidden = false;
  }

  /* A labelled input: returns { row, input }. */
  function field(id, label, attrs) {
    var input = el(attrs && attrs.type === "select" ? "select" : "input",
                   Object.assign({ id: id, name: id }, attrs || {}));
    if (attrs && attrs.type === "select") {
      input.removeAttribute("type");
      (attrs.options || []).forEach(function (o) {
        input.appendChild(el("option", { value: o, text: o }));
      });
      input.removeAttribute("options");
    }
    var row = el("div", { class: "field" }, [el("label", { for: id, text: label }), input]);
    return { row: row, input: input };
  }

  /*
   * Ask before a destructive action. Resolves true only when the person confirms; the text says
   * what will happen to the numbers.
   */
  function confirm(title, text, okLabel) {
    var dlg = document.getElementById("confirm");
    var ok = document.getElementById("confirm-ok");
    var cancel = document.getElementById("confirm-cancel");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    ok.textContent = okLabel || "Confirm";
    var opener = document.activeElement;
    return new Promise(function (resolve) {
      function done(answer, ev) {
        if (ev) ev.preventDefault();
        ok.removeEventListener("click", yes);
        cancel.removeEventListener("click", no);
        dlg.removeEventListener("cancel", no);
        dlg.close();
        if (opener && opener.focus) opener.focus();
        resolve(answer);
      }
      function yes(ev) { done(true, ev); }
      function no(ev) { done(false, ev); }
      ok.addEventListener("click", yes);
      cancel.addEventListener("click", no);
      dlg.addEventListener("cancel", no);
      dlg.showModal();
      cancel.focus();
    });
  }

  /*
   * A small line chart of points [{t: ms, v: number}] as inline SVG, labelled for screen readers
   * with its last value. Empty until two points exist.
   */
  function sparkline(points, label, width, height) {
    width = width || 120;
    height = height || 28;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("class", "spark");
    if (points.length < 2) return svg;
    var t0 = points[0].t, t1 = points[points.length - 1].t;
    var vmax = Math.max.apply(null, points.map(function (p) { return p.v; }));
    if (vmax <= 0) vmax = 1;
    var d = points.map(function (p, i) {
      var x = t1 === t0 ? 0 : ((p.t - t0) / (t1 - t0)) * (width - 2) + 1;
      var y = height - 1 - (p.v / vmax) * (height - 2);
      return (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    }).join(" ");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    /* A cell a spreadsheet would run as a formula is quoted with a leading apostrophe. */
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  /* The CSV text of rows (arrays of cells) under a header row. */
  function csv(header, rows) {
    return [header].concat(rows).map(function (r) {
      return r.map(csvCell).join(",");
    }).join("\r\n") + "\r\n";
  }

  /* Offer text as a file download. */
  function download(filename, text, type) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = el("a", { href: url, download: filename, class: "visually-hidden" });
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function bytes(n) {
    if (n === null || n === undefined) return "unknown";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0, v = n;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : String(v)) + " " + units[i];
  }

  /* A number for people: 12 345 678 (values may be strings past 2^53: kept as they are). */
  function num(v) {
    if (v === null || v === undefined) return "—";
    return String(v);
  }

  return { el: el, clear: clear, redraw: redraw, say: say, showError: showError, field: field,
           confirm: confirm, sparkline: sparkline, csv: csv, download: download,
           bytes: bytes, num: num };
})();
