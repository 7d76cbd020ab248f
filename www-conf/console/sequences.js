/*
 * sequences.js: the sequences table (searchable, paged, refreshing itself, a rate chart per
 * sequence) and one sequence's page (options, what the console saw it do, admin actions).
 *
 * Rates come from successive polls: NX.seen keeps, per sequence, the next value at each poll of
 * the last HISTORY_MS; the rate is the values issued per minute between polls.
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.seen = (function () {
  var HISTORY_MS = 5 * 60 * 1000;
  var series = {}; /* name -> [{t, next (BigInt)}] */

  function big(v) {
    try {
      return v === null || v === undefined ? null : BigInt(String(v));
    } catch (e) {
      return null;
    }
  }

  function record(name, next, t) {
    var n = big(next);
    if (n === null) return;
    var s = series[name] || (series[name] = []);
    s.push({ t: t, next: n });
    while (s.length > 2 && t - s[0].t > HISTORY_MS) s.shift();
  }

  /* Values issued per minute between successive polls: [{t, v}]. step: the increment. */
  function rates(name, step) {
    var s = series[name] || [];
    var inc = big(step) || 1n;
    if (inc < 0n) inc = -inc;
    var out = [];
    for (var i = 1; i < s.length; i++) {
      var d = s[i].next - s[i - 1].next;
      if (d < 0n) d = -d; /* counting down, or set back by an admin: its size */
      var dt = s[i].t - s[i - 1].t;
      if (dt > 0) out.push({ t: s[i].t, v: Number(d / inc) * 60000 / dt });
    }
    return out;
  }

  /* The rate over the last minute (or what was seen of it): values per minute, or null. */
  function lastMinute(name, step) {
    var s = series[name] || [];
    if (s.length < 2) return null;
    var last = s[s.length - 1], first = s[0];
    for (var i = s.length - 2; i >= 0; i--) {
      first = s[i];
      if (last.t - s[i].t >= 60000) break;
    }
    var inc = big(step) || 1n;
    if (inc < 0n) inc = -inc;
    var d = last.next - first.next;
    if (d < 0n) d = -d;
    return last.t > first.t ? Number(d / inc) * 60000 / (last.t - first.t) : null;
  }

  function points(name) {
    return (series[name] || []).map(function (p) { return { t: p.t, v: Number(p.next) }; });
  }

  function forget(name) {
    delete series[name];
  }

  return { record: record, rates: rates, lastMinute: lastMinute, points: points,
           forget: forget, big: big };
})();

NX.sequences = (function () {
  var ui = NX.ui, api = NX.api, el = ui.el;
  var MAX_LISTED = 10000;
  var PAGE_SIZES = ["25", "50", "100"];
  var state = { query: "", page: 0, size: 25, rows: [], more: false, admin: false };

  function rateText(r) {
    if (r === null) return "—";
    return (r >= 100 ? Math.round(r) : Math.round(r * 10) / 10) + "/min";
  }

  function options(row) {
    if (!state.admin) return "—";
    if (row.increment === null) return "random ids";
    var parts = ["step " + row.increment, "min " + row.min, "max " + row.max];
    if (row.cycle) parts.push("cycle");
    if (row.cache) parts.push("cache " + row.cache);
    if (row.exhausted) parts.push("exhausted");
    return parts.join(", ");
  }

  /* One poll: every sequence (the admin list with the token, the public list without). */
  function load() {
    var now = Date.now();
    var admin = !!api.token();
    var req = admin ? api.all("/api/admin/sequences", "sequences", "name", { admin: true },
                              MAX_LISTED)
                    : api.all("/api/list", "entities", "entityName", {}, MAX_LISTED);
    return req.then(function (res) {
      state.admin = admin;
      state.more = res.more;
      state.rows = res.items.map(function (it) {
        var row = admin ? it : { name: it.entityName, type: it.dataType, next: it.currentValue,
                                 increment: undefined };
        NX.seen.record(row.name, row.next, now);
        return row;
      });
    });
  }

  function filtered() {
    var q = state.query.toLowerCase();
    return q ? state.rows.filter(function (r) { return r.name.toLowerCase().indexOf(q) >= 0; })
             : state.rows;
  }

  function renderTable(box) {
    var rows = filtered();
    var pages = Math.max(1, Math.ceil(rows.length / state.size));
    if (state.page >= pages) state.page = pages - 1;
    var shown = rows.slice(state.page * state.size, (state.page + 1) * state.size);
    var table = el("table", { class: "list", id: "sequence-table" }, [
      el("caption", { text: rows.length + " sequence" + (rows.length === 1 ? "" : "s") +
                            (state.query ? " matching “" + state.query + "”" : "") +
                            (state.more ? " (the first " + MAX_LISTED + " by name)" : "") }),
      el("thead", {}, [el("tr", {}, ["Name", "Type", "Next value", "Options", "Issued / min"]
        .map(function (h) { return el("th", { scope: "col", text: h }); }))]),
    ]);
    var body = el("tbody");
    shown.forEach(function (r) {
      var rate = NX.seen.lastMinute(r.name, r.increment);
      body.appendChild(el("tr", { "data-name": r.name }, [
        el("th", { scope: "row", "data-label": "Name" },
           [el("a", { href: "#/sequence/" + api.seg(r.name), text: r.name })]),
        el("td", { "data-label": "Type", text: r.type }),
        el("td", { "data-label": "Next value", class: "num next", text: ui.num(r.next) }),
        el("td", { "data-label": "Options", class: "options", text: options(r) }),
        el("td", { "data-label": "Issued / min", class: "rate" }, [
          el("span", { class: "rate-value", text: rateText(rate) }),
          ui.sparkline(NX.seen.rates(r.name, r.increment),
                       "Issue rate of " + r.name + ": " + rateText(rate)),
        ]),
      ]));
    });
    if (!shown.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "5", text: state.query
        ? "No sequence matches." : "No sequences yet: GET /next/<name> creates one." })]));
    }
    table.appendChild(body);
    var nav = el("nav", { class: "pager", "aria-label": "Sequence pages" }, [
      el("button", { type: "button", id: "seq-prev", disabled: state.page === 0,
                     text: "Previous page", on: { click: function () {
                       state.page--; renderTable(box); } } }),
      el("span", { text: "Page " + (state.page + 1) + " of " + pages }),
      el("button", { type: "button", id: "seq-next", disabled: state.page >= pages - 1,
                     text: "Next page", on: { click: function () {
                       state.page++; renderTable(box); } } }),
    ]);
    ui.redraw(box, function () {
      ui.clear(box).appendChild(el("div", { class: "table-wrap" }, [table]));
      box.appendChild(nav);
    });
  }

  function createForm(refresh) {
    var name = ui.field("create-name", "Name", { required: true, maxlength: "200" });
    var type = ui.field("create-type", "Type", { type: "select",
      options: ["long", "int", "uuid8", "uuid12", "uuid16", "uuid22"] });
    var start = ui.field("create-start", "Start", { inputmode: "numeric", pattern: "[0-9]*" });
    var inc = ui.field("create-increment", "Increment", { inputmode: "numeric" });
    var cache = ui.field("create-cache", "Cache", { inputmode: "numeric", pattern: "[0-9]*" });
    var form = el("form", { id: "create-form", class: "admin", "aria-labelledby": "create-title" }, [
      el("h2", { id: "create-title", text: "Create a sequence" }),
      el("div", { class: "fields" }, [name.row, type.row, start.row, inc.row, cache.row]),
      el("button", { type: "submit", text: "Create" }),
    ]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { type: type.input.value };
      if (start.input.value) body.start = start.input.value;
      if (inc.input.value) body.increment = inc.input.value;
      if (cache.input.value) body.cache = cache.input.value;
      var n = name.input.value;
      api.call("/api/admin/sequences/" + api.seg(n), { method: "PUT", body: body, admin: true })
        .then(function (r) {
          ui.showError(null);
          ui.say("Sequence " + r.name + " saved; its next value is " + ui.num(r.next) + ".");
          form.reset();
          refresh();
        }, ui.showError);
    });
    return form;
  }

  function view(main) {
    var search = ui.field("seq-search", "Search by name", { type: "search" });
    var size = ui.field("seq-size", "Rows per page", { type: "select", options: PAGE_SIZES });
    search.input.value = state.query;
    size.input.value = String(state.size);
    var box = el("div", { id: "sequence-box" }, [el("p", { text: "Loading…" })]);
    var stamp = el("p", { class: "help", id: "seq-updated" });
    main.appendChild(el("h1", { text: "Sequences" }));
    main.appendChild(el("div", { class: "fields toolbar" }, [search.row, size.row]));
    main.appendChild(box);
    main.appendChild(stamp);
    search.input.addEventListener("input", function () {
      state.query = search.input.value;
      state.page = 0;
      renderTable(box);
    });
    size.input.addEventListener("change", function () {
      state.size = parseInt(size.input.value, 10);
      state.page = 0;
      renderTable(box);
    });
    function refresh() {
      return load().then(function () {
        ui.showError(null);
        renderTable(box);
        stamp.textContent = "Updated " + new Date().toLocaleTimeString() +
          "; refreshes every " + NX.REFRESH_MS / 1000 + " s." +
          (state.admin ? "" : " Options show with the admin token.");
      }, ui.showError);
    }
    if (api.token()) main.appendChild(createForm(refresh));
    return { refresh: refresh };
  }

  /* ---- one sequence ---- */

  function detailRows(s) {
    var rows = [["Type", s.type], ["Next value", ui.num(s.next)]];
    if (s.increment !== undefined) {
      rows.push(["Increment", ui.num(s.increment)], ["Min", ui.num(s.min)],
                ["Max", ui.num(s.max)], ["Cycle", s.cycle ? "yes" : "no"],
                ["Cache", String(s.cache)], ["Exhausted", s.exhausted ? "yes" : "no"]);
    }
    return el("dl", { class: "details", id: "sequence-details" }, rows.reduce(function (acc, r) {
      acc.push(el("dt", { text: r[0] }), el("dd", { text: r[1] }));
      return acc;
    }, []));
  }

  /* What setting next to `to` does to the numbers, from `from` on. */
  function nextEffect(from, to, inc) {
    var f = NX.seen.big(from), t = NX.seen.big(to), step = NX.seen.big(inc) || 1n;
    if (f === null || t === null || t === f) return { lowers: false, text: "" };
    var down = step < 0n;
    if ((t < f) !== down) {
      var last = down ? f + 1n : f - 1n;
      return { lowers: true, text: "Values " + t + " to " + last + " will be issued again: " +
               "clients that already hold them will see them a second time." };
    }
    var skipEnd = down ? t + 1n : t - 1n;
    return { lowers: false, text: "Values " + f + " to " + skipEnd + " will never be issued." };
  }

  /* latest(): the sequence as last read, so each action judges what it does on fresh values. */
  function adminForms(name, latest, reload) {
    var s = latest();
    var box = el("section", { class: "admin", "aria-labelledby": "seq-admin-title" }, [
      el("h2", { id: "seq-admin-title", text: "Admin actions" })]);
    if (!api.token()) {
      box.appendChild(el("p", { text: "Type the admin token at the top to change this sequence." }));
      return box;
    }
    /* set the next value */
    var next = ui.field("set-next", "New next value", { inputmode: "numeric", required: true });
    var setForm = el("form", { id: "set-next-form", "aria-labelledby": "set-next-title" }, [
      el("h3", { id: "set-next-title", text: "Set the next value" }), next.row,
      el("button", { type: "submit", text: "Set next value" })]);
    setForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var to = next.input.value.trim();
      var now = latest();
      var effect = nextEffect(now.next, to, now.increment);
      var ask = effect.lowers
        ? ui.confirm("Lower " + name + "?", effect.text, "Lower to " + to)
        : Promise.resolve(true);
      ask.then(function (yes) {
        if (!yes) {
          ui.say("Nothing changed.");
          return;
        }
        api.call("/api/admin/sequences/" + api.seg(name) + "/next",
                 { method: "POST", body: { next: to }, admin: true })
          .then(function (r) {
            ui.showError(null);
            ui.say(name + ": the next value is now " + ui.num(r.next) + "." +
                   (effect.text ? " " + effect.text : ""));
            reload();
          }, ui.showError);
      });
    });
    box.appendChild(setForm);

    /* change options */
    if (s.increment !== null) {
      var inc = ui.field("opt-increment", "Increment", { value: s.increment });
      var min = ui.field("opt-min", "Min", { value: s.min });
      var max = ui.field("opt-max", "Max", { value: s.max });
      var cache = ui.field("opt-cache", "Cache", { value: s.cache });
      var cycle = el("input", { type: "checkbox", id: "opt-cycle", checked: s.cycle });
      var optForm = el("form", { id: "options-form", "aria-labelledby": "options-title" }, [
        el("h3", { id: "options-title", text: "Options" }),
        el("div", { class: "fields" }, [inc.row, min.row, max.row, cache.row,
          el("div", { class: "field check" }, [cycle, el("label", { for: "opt-cycle", text: "Cycle" })])]),
        el("button", { type: "submit", text: "Save options" })]);
      optForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { increment: inc.input.value, min: min.input.value, max: max.input.value,
                     cache: cache.input.value, cycle: cycle.checked };
        api.call("/api/admin/sequences/" + api.seg(name), { method: "PUT", body: body, admin: true })
          .then(function () {
            ui.showError(null);
            ui.say(name + ": options saved.");
            reload();
          }, ui.showError);
      });
      box.appendChild(optForm);
    }

    /* delete */
    var del = el("button", { type: "button", class: "danger", id: "delete-sequence",
                             text: "Delete " + name });
    del.addEventListener("click", function () {
      var s = latest();
      var what = s.next !== null && s.increment !== null
        ? "Its counter is removed: the next GET /next/" + name + " creates it again from its " +
          "start, and the values issued before " + ui.num(s.next) + " will be issued again."
        : "The sequence and its type are removed; a new one may take the name.";
      ui.confirm("Delete " + name + "?", what, "Delete").then(function (yes) {
        if (!yes) return;
        api.call("/api/admin/sequences/" + api.seg(name), { method: "DELETE", admin: true })
          .then(function () {
            NX.seen.forget(name);
            NX.nextMessage = name + " deleted."; /* said by the view that comes next */
            window.location.hash = "#/sequences";
          }, ui.showError);
      });
    });
    box.appendChild(el("h3", { text: "Delete" }));
    box.appendChild(del);
    return box;
  }

  function sequenceView(main, name) {
    var head = el("h1", {}, ["Sequence ", el("span", { class: "name", text: name })]);
    var details = el("div", { id: "sequence-detail-box" }, [el("p", { text: "Loading…" })]);
    var history = el("section", { "aria-labelledby": "hist-title" }, [
      el("h2", { id: "hist-title", text: "History" })]);
    var historyBox = el("div");
    history.appendChild(historyBox);
    var adminBox = el("div");
    main.appendChild(el("p", {}, [el("a", { href: "#/sequences", text: "← All sequences" })]));
    main.appendChild(head);
    main.appendChild(details);
    main.appendChild(history);
    main.appendChild(adminBox);
    var formsShown = false;
    var current = null;

    function fetchOne() {
      if (api.token()) {
        return api.call("/api/admin/sequences/" + api.seg(name), { admin: true });
      }
      return api.call("/api/status/" + api.seg(name)).then(function (b) {
        return { name: b.entityName, type: b.dataType, next: b.currentValue, increment: undefined };
      });
    }

    function renderHistory(s) {
      var rates = NX.seen.rates(name, s.increment);
      var rate = NX.seen.lastMinute(name, s.increment);
      var points = NX.seen.points(name);
      var list = el("ol", { class: "history", reversed: true });
      var prev = null;
      points.forEach(function (p) {
        if (prev === null || p.v !== prev) {
          list.insertBefore(el("li", { text: new Date(p.t).toLocaleTimeString() +
                                             ": next value " + p.v }), list.firstChild);
        }
        prev = p.v;
      });
      ui.clear(historyBox);
      historyBox.appendChild(el("p", { text: "Issued over the last minute: " + rateText(rate) }));
      historyBox.appendChild(ui.sparkline(rates, "Issue rate of " + name + " over the last " +
                                          "minutes: " + rateText(rate), 320, 60));
      historyBox.appendChild(el("p", { class: "help", text: "What this console saw since it " +
        "opened (nextid keeps no history of plain sequences; a formatted prefix's audit trail " +
        "is on its prefix page)." }));
      while (list.children.length > 20) list.removeChild(list.lastChild);
      historyBox.appendChild(list);
    }

    function refresh() {
      return fetchOne().then(function (s) {
        ui.showError(null);
        current = s;
        NX.seen.record(name, s.next, Date.now());
        ui.clear(details).appendChild(detailRows(s));
        renderHistory(s);
        if (!formsShown) {
          formsShown = true;
          adminBox.appendChild(adminForms(name, function () { return current; }, function () {
            ui.clear(adminBox);
            formsShown = false;
            refresh();
          }));
        }
      }, function (err) {
        ui.clear(details).appendChild(el("p", { text: "Not available." }));
        ui.showError(err);
      });
    }
    return { refresh: refresh };
  }

  return { view: view, sequenceView: sequenceView, nextEffect: nextEffect };
})();
