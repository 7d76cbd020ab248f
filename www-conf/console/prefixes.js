/*
 * prefixes.js: formatted prefixes: the list (config and a preview of the next number), one
 * prefix's page with its configuration, reset and audit trail (filtered by period and client_id,
 * paged, exportable as CSV). The list, the audit and every change need the admin token.
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.prefixes = (function () {
  var ui = NX.ui, api = NX.api, el = ui.el;
  var MAX_LISTED = 10000;
  var AUDIT_FETCH = 1000;  /* audit entries per request while filtering */
  var EXPORT_MAX = 100000; /* entries an export reads at most */
  var RULES = ["never", "daily", "monthly", "yearly"];

  function needToken(main, what) {
    main.appendChild(el("p", { class: "notice", text: "Type the admin token at the top of the " +
                               "page to " + what + "." }));
  }

  function openByName(main) {
    var name = ui.field("open-prefix", "Open a prefix by name", { required: true });
    var form = el("form", { id: "open-prefix-form" }, [name.row,
      el("button", { type: "submit", text: "Open" })]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      window.location.hash = "#/prefix/" + api.seg(name.input.value);
    });
    main.appendChild(form);
  }

  function configForm(id, name, cfg, done) {
    var prefix = name === null ? ui.field(id + "-name", "Prefix", { required: true }) : null;
    var tmpl = ui.field(id + "-template", "Format template", {
      value: cfg ? cfg.format_template : "{prefix}{counter}", "aria-describedby": id + "-help" });
    var pad = ui.field(id + "-padding", "Padding", { inputmode: "numeric",
                                                      value: cfg ? cfg.padding_length : 6 });
    var rule = ui.field(id + "-rule", "Reset rule", { type: "select", options: RULES });
    var tz = ui.field(id + "-tz", "Time zone", { value: cfg ? cfg.timezone : "UTC" });
    var who = ui.field(id + "-user", "Admin user (for the audit)", {});
    if (cfg) rule.input.value = cfg.reset_rule;
    var form = el("form", { id: id, class: "admin" }, [
      el("h2", { text: name === null ? "Configure a prefix" : "Change the configuration" }),
      el("div", { class: "fields" }, [prefix && prefix.row, tmpl.row, pad.row, rule.row, tz.row,
                                       who.row]),
      el("p", { class: "help", id: id + "-help", text: "{prefix}, {counter}, {counter:N}, {yyyy}, " +
               "{yy}, {mm}, {dd}; or the printf forms %s%06d and INV%d-%04d." }),
      el("button", { type: "submit", text: "Save" })]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var n = prefix ? prefix.input.value : name;
      var padding = parseInt(pad.input.value, 10);
      var body = { format_template: tmpl.input.value, reset_rule: rule.input.value,
                   timezone: tz.input.value, padding_length: isNaN(padding) ? pad.input.value : padding };
      if (who.input.value) body.admin_user = who.input.value;
      api.call("/api/v1/config/" + api.seg(n), { method: "POST", body: body, admin: true })
        .then(function () {
          ui.showError(null);
          ui.say("Prefix " + n + " configured.");
          done(n);
        }, ui.showError);
    });
    return form;
  }

  function view(main) {
    main.appendChild(el("h1", { text: "Formatted prefixes" }));
    var box = el("div", { id: "prefix-box" });
    main.appendChild(box);
    openByName(main);
    if (!api.token()) {
      needToken(box, "list the prefixes and configure them");
      return { refresh: function () { return Promise.resolve(); } };
    }
    main.appendChild(configForm("prefix-config-new", null, null, function (n) {
      window.location.hash = "#/prefix/" + api.seg(n);
    }));
    function refresh() {
      return api.all("/api/admin/prefixes", "prefixes", "prefix", { admin: true }, MAX_LISTED)
        .then(function (res) {
          ui.showError(null);
          var table = el("table", { class: "list", id: "prefix-table" }, [
            el("caption", { text: res.items.length + " prefix" +
                                  (res.items.length === 1 ? "" : "es") }),
            el("thead", {}, [el("tr", {}, ["Prefix", "Template", "Reset", "Time zone",
                                           "Current", "Next number"]
              .map(function (h) { return el("th", { scope: "col", text: h }); }))])]);
          var body = el("tbody");
          res.items.forEach(function (p) {
            body.appendChild(el("tr", { "data-name": p.prefix }, [
              el("th", { scope: "row", "data-label": "Prefix" },
                 [el("a", { href: "#/prefix/" + api.seg(p.prefix), text: p.prefix })]),
              el("td", { "data-label": "Template", text: p.format_template + " (padding " +
                                                          p.padding_length + ")" }),
              el("td", { "data-label": "Reset", text: p.reset_rule }),
              el("td", { "data-label": "Time zone", text: p.timezone }),
              el("td", { "data-label": "Current", class: "num", text: ui.num(p.current_counter) }),
              el("td", { "data-label": "Next number", class: "preview",
                         text: p.next_number === null ? "—" : p.next_number }),
            ]));
          });
          if (!res.items.length) {
            body.appendChild(el("tr", {}, [el("td", { colspan: "6",
              text: "No prefixes yet: configure one below." })]));
          }
          table.appendChild(body);
          ui.redraw(box, function () {
            ui.clear(box).appendChild(el("div", { class: "table-wrap" }, [table]));
          });
        }, ui.showError);
    }
    return { refresh: refresh };
  }

  /* ---- one prefix ---- */

  function auditFilters() {
    var from = ui.field("audit-from", "From (date, UTC)", { type: "date" });
    var to = ui.field("audit-to", "To (date, UTC, inclusive)", { type: "date" });
    var client = ui.field("audit-client", "client_id", {});
    var size = ui.field("audit-size", "Rows per page", { type: "select",
                                                         options: ["50", "100", "250"] });
    return { from: from, to: to, client: client, size: size };
  }

  /* The predicate of the filters' current values. */
  function matcher(f) {
    var from = f.from.input.value ? Date.parse(f.from.input.value + "T00:00:00Z") : null;
    var to = f.to.input.value ? Date.parse(f.to.input.value + "T00:00:00Z") + 86400000 : null;
    var client = f.client.input.value;
    return function (r) {
      var t = Date.parse(r.generated_at);
      return (from === null || t >= from) && (to === null || t < to) &&
             (!client || r.client_id === client);
    };
  }

  /*
   * Read the audit after position `after` until `want` entries match (or the trail ends).
   * Resolves { rows, last (the position read up to), done }.
   */
  function scan(name, after, want, match) {
    var rows = [];
    function step(pos) {
      return api.call("/api/v1/audit/" + api.seg(name) + "?after=" + pos + "&limit=" + AUDIT_FETCH,
                      { admin: true }).then(function (b) {
        var recs = b.records || [];
        for (var i = 0; i < recs.length; i++) {
          if (match(recs[i])) rows.push(recs[i]);
          if (rows.length === want) return { rows: rows, last: recs[i].seq, done: false };
        }
        if (recs.length < AUDIT_FETCH) return { rows: rows, last: pos, done: true };
        return step(recs[recs.length - 1].seq);
      });
    }
    return step(after);
  }

  function auditSection(name) {
    var f = auditFilters();
    var box = el("div", { id: "audit-box" });
    var pager = el("nav", { class: "pager", "aria-label": "Audit pages" });
    var starts = [0]; /* the position each page starts after */
    var page = 0;
    var form = el("form", { id: "audit-form" }, [
      el("div", { class: "fields" }, [f.from.row, f.to.row, f.client.row, f.size.row]),
      el("button", { type: "submit", text: "Apply filters" }),
      el("button", { type: "button", id: "audit-csv", text: "Export CSV" })]);
    var section = el("section", { "aria-labelledby": "audit-title" }, [
      el("h2", { id: "audit-title", text: "Audit trail" }), form, box, pager]);

    function show() {
      var size = parseInt(f.size.input.value, 10);
      return scan(name, starts[page], size, matcher(f)).then(function (res) {
        ui.showError(null);
        starts[page + 1] = res.last;
        var table = el("table", { class: "list", id: "audit-table" }, [
          el("caption", { text: res.rows.length ? "Numbers issued, page " + (page + 1)
                                                : "No number matches." }),
          el("thead", {}, [el("tr", {}, ["Position", "Counter", "Number", "client_id",
                                         "generated_by", "Issued at (UTC)"]
            .map(function (h) { return el("th", { scope: "col", text: h }); }))])]);
        var body = el("tbody");
        res.rows.forEach(function (r) {
          body.appendChild(el("tr", {}, [
            el("td", { "data-label": "Position", class: "num", text: r.seq }),
            el("td", { "data-label": "Counter", class: "num", text: r.counter }),
            el("th", { scope: "row", "data-label": "Number", class: "full-number",
                       text: r.full_number }),
            el("td", { "data-label": "client_id", class: "client", text: r.client_id }),
            el("td", { "data-label": "generated_by", text: r.generated_by }),
            el("td", { "data-label": "Issued at", text: r.generated_at })]));
        });
        table.appendChild(body);
        ui.clear(box).appendChild(el("div", { class: "table-wrap" }, [table]));
        ui.clear(pager);
        pager.appendChild(el("button", { type: "button", id: "audit-prev", text: "Previous page",
          disabled: page === 0, on: { click: function () { page--; show(); } } }));
        pager.appendChild(el("span", { text: "Page " + (page + 1) }));
        pager.appendChild(el("button", { type: "button", id: "audit-next", text: "Next page",
          disabled: res.done || res.rows.length < size,
          on: { click: function () { page++; show(); } } }));
      }, ui.showError);
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      starts = [0];
      page = 0;
      show();
    });
    form.querySelector("#audit-csv").addEventListener("click", function () {
      ui.say("Exporting the audit trail…");
      scan(name, 0, EXPORT_MAX, matcher(f)).then(function (res) {
        var text = ui.csv(["seq", "counter", "full_number", "client_id", "generated_by",
                           "message_id", "generated_at"], res.rows.map(function (r) {
          return [r.seq, r.counter, r.full_number, r.client_id, r.generated_by, r.message_id,
                  r.generated_at];
        }));
        ui.download("audit-" + name.replace(/[^A-Za-z0-9._-]/g, "_") + ".csv", text,
                    "text/csv;charset=utf-8");
        ui.say(res.rows.length + " numbers exported.");
      }, ui.showError);
    });
    return { section: section, show: show };
  }

  function eventsSection(name) {
    var box = el("div", { id: "events-box" });
    var section = el("section", { "aria-labelledby": "events-title" }, [
      el("h2", { id: "events-title", text: "Configuration and resets" }), box]);
    function show() {
      return api.call("/api/v1/audit/" + api.seg(name) + "?kind=events&limit=1000", { admin: true })
        .then(function (b) {
          var list = el("ol", { class: "events", reversed: true });
          (b.records || []).slice().reverse().forEach(function (e) {
            var what = e.event === "reset"
              ? "reset from " + e.old_value + " to " + e.new_value + (e.reason ? " (" + e.reason + ")" : "")
              : "configured: " + e.settings;
            list.appendChild(el("li", { text: e.at + " " + what +
                                              (e.admin_user ? " by " + e.admin_user : "") }));
          });
          ui.clear(box).appendChild(list);
        }, ui.showError);
    }
    return { section: section, show: show };
  }

  function resetForm(name, latest, reload) {
    var to = ui.field("reset-to", "Set the counter to", { inputmode: "numeric", required: true,
                                                          "aria-describedby": "reset-help" });
    var reason = ui.field("reset-reason", "Reason", {});
    var who = ui.field("reset-user", "Admin user", {});
    var form = el("form", { id: "reset-form", class: "admin" }, [
      el("h2", { text: "Reset the counter" }),
      el("div", { class: "fields" }, [to.row, reason.row, who.row]),
      el("p", { class: "help", id: "reset-help", text: "The next number issued is this value + 1." }),
      el("button", { type: "submit", class: "danger", text: "Reset" })]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var setTo = to.input.value.trim();
      var current = NX.seen.big(latest().current_counter);
      var target = NX.seen.big(setTo);
      var lowers = current !== null && target !== null && target < current;
      var ask = lowers
        ? ui.confirm("Lower the counter of " + name + "?", "The counter goes back from " +
                     current + " to " + target + ": numbers " + (target + 1n) + " to " + current +
                     " will be issued again, with the same full numbers in this period.",
                     "Lower to " + setTo)
        : Promise.resolve(true);
      ask.then(function (yes) {
        if (!yes) {
          ui.say("Nothing changed.");
          return;
        }
        var body = { set_to: Number(setTo), force: lowers };
        if (!/^[0-9]+$/.test(setTo)) body.set_to = setTo;
        if (reason.input.value) body.reason = reason.input.value;
        if (who.input.value) body.admin_user = who.input.value;
        api.call("/api/v1/reset/" + api.seg(name), { method: "POST", body: body, admin: true })
          .then(function (r) {
            ui.showError(null);
            ui.say(r.message + ".");
            form.reset();
            reload();
          }, ui.showError);
      });
    });
    return form;
  }

  function prefixView(main, name) {
    main.appendChild(el("p", {}, [el("a", { href: "#/prefixes", text: "← All prefixes" })]));
    main.appendChild(el("h1", {}, ["Prefix ", el("span", { class: "name", text: name })]));
    var details = el("div", { id: "prefix-details-box" }, [el("p", { text: "Loading…" })]);
    main.appendChild(details);
    var current = null;
    var audit = null, events = null;
    var formsShown = false;

    function reloadAll() {
      refresh();
      if (audit) audit.show();
      if (events) events.show();
    }

    function refresh() {
      var cfg = api.call("/api/v1/config/" + api.seg(name));
      var st = api.call("/api/v1/status/" + api.seg(name));
      var list = api.token() ? preview().catch(function () { return null; })
                             : Promise.resolve(null);
      return Promise.all([cfg, st, list]).then(function (got) {
        ui.showError(null);
        var c = got[0], s = got[1];
        current = s;
        var rows = [["Format template", c.format_template], ["Padding", String(c.padding_length)],
                    ["Reset rule", c.reset_rule], ["Time zone", c.timezone],
                    ["Current counter", ui.num(s.current_counter)],
                    ["Next counter", ui.num(s.next_counter)]];
        if (got[2] !== null) rows.push(["Next number", got[2]]);
        ui.clear(details).appendChild(el("dl", { class: "details", id: "prefix-details" },
          rows.reduce(function (acc, r) {
            acc.push(el("dt", { text: r[0] }), el("dd", { text: r[1] }));
            return acc;
          }, [])));
        if (!formsShown && api.token()) {
          formsShown = true;
          audit = auditSection(name);
          events = eventsSection(name);
          main.appendChild(audit.section);
          main.appendChild(resetForm(name, function () { return current; }, reloadAll));
          main.appendChild(configForm("prefix-config", name, c, reloadAll));
          main.appendChild(events.section);
          audit.show();
          events.show();
        } else if (!formsShown) {
          formsShown = true;
          needToken(main, "read the audit trail and change this prefix");
        }
      }, function (err) {
        ui.clear(details).appendChild(el("p", { text: "Not available." }));
        ui.showError(err);
      });
    }

    /* The preview of the next number: this name's entry in the list, read from just before it
     * (its name without the last character sorts first). */
    function preview() {
      var before = name.slice(0, -1); /* the list is after a name: start just before this one */
      var q = "/api/admin/prefixes?limit=1000" + (before ? "&after=" + api.seg(before) : "");
      return api.call(q, { admin: true }).then(function (b) {
        var hit = (b.prefixes || []).filter(function (p) { return p.prefix === name; })[0];
        return hit && hit.next_number !== null ? hit.next_number : null;
      });
    }
    /* The details (counter, next number) follow the counter at every poll; the audit and its
     * filters stay on the page the reader chose. */
    return { refresh: refresh };
  }

  return { view: view, prefixView: prefixView };
})();
