/*
 * pool.js: the pool view (GET /api/pool, with the request rate computed from successive polls,
 * and the replication group when the node is replicated) and the id decoder (/generate).
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.pool = (function () {
  var ui = NX.ui, api = NX.api, el = ui.el;
  var RATE_POINTS = 100;
  var samples = []; /* [{t, requests}] of the polls, for the request rate */

  function card(id, label, value, note) {
    return el("div", { class: "card", id: id }, [
      el("p", { class: "label", text: label }),
      el("p", { class: "value", text: value }),
      note ? el("p", { class: "help", text: note }) : null]);
  }

  function latency(us) {
    if (us === 0) return "none yet";
    if (us < 0) return "over 1 s";
    return "≤ " + (us >= 1000 ? us / 1000 + " ms" : us + " µs");
  }

  function rates() {
    var out = [];
    for (var i = 1; i < samples.length; i++) {
      var dt = samples[i].t - samples[i - 1].t;
      if (dt > 0) out.push({ t: samples[i].t, v: (samples[i].requests - samples[i - 1].requests) * 1000 / dt });
    }
    return out;
  }

  /* The replication group, from /api/pool's "replication" member (absent: not replicated). */
  function replication(box, r) {
    if (!r) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    var members = Array.isArray(r.members) ? r.members : [];
    var cards = el("div", { class: "cards", id: "replication-cards" }, [
      card("replication-role", "This node", String(r.role)),
      card("replication-master", "Master", r.master ? String(r.master) : "none known"),
      card("replication-elections", "Elections", String(r.elections),
           "taken part in since this node started"),
      card("replication-lag", "Replication lag", ui.bytes(r.lag_bytes),
           "log this node knows it has not applied")]);
    var table = el("table", { class: "list", id: "replication-table" }, [
      el("caption", { text: "Members, as this node sees them" }),
      el("thead", {}, [el("tr", {}, ["Member", "Role", "shard_id"].map(function (h) {
        return el("th", { scope: "col", text: h }); }))])]);
    var body = el("tbody");
    members.forEach(function (m) {
      body.appendChild(el("tr", {}, [
        el("th", { scope: "row", "data-label": "Member",
                   text: String(m.address) + (m.self ? " (this node)" : "") }),
        el("td", { "data-label": "Role", text: String(m.role) }),
        el("td", { "data-label": "shard_id", text: ui.num(m.shard_id) })]));
    });
    table.appendChild(body);
    ui.clear(box).appendChild(el("h2", { text: "Replication" }));
    box.appendChild(cards);
    box.appendChild(el("div", { class: "table-wrap" }, [table]));
    if (r.members_error)
      box.appendChild(el("p", { class: "help", id: "replication-error",
                                text: "Members unknown: " + r.members_error }));
  }

  function view(main) {
    main.appendChild(el("h1", { text: "Pool" }));
    var cards = el("div", { class: "cards", id: "pool-cards" }, [el("p", { text: "Loading…" })]);
    var chart = el("section", { "aria-labelledby": "pool-rate-title" }, [
      el("h2", { id: "pool-rate-title", text: "Requests per second" })]);
    var chartBox = el("div");
    chart.appendChild(chartBox);
    var repl = el("section", { id: "replication", hidden: true });
    main.appendChild(cards);
    main.appendChild(chart);
    main.appendChild(repl);

    function refresh() {
      return api.call("/api/pool").then(function (p) {
        ui.showError(null);
        var now = Date.now();
        samples.push({ t: now, requests: p.requests });
        while (samples.length > RATE_POINTS) samples.shift();
        var r = rates();
        var rate = r.length ? r[r.length - 1].v : null;
        var rateText = rate === null ? "measuring…" : rate.toFixed(1) + "/s";
        ui.clear(cards);
        [card("pool-workers", "Workers", p.workers + " × " + p.threads_per_worker + " threads"),
         card("pool-in-flight", "Requests in flight", String(p.in_flight),
              "this page's own request included"),
         card("pool-durability", "Durability", p.durability),
         card("pool-store", "Store size", ui.bytes(p.store_bytes),
              ui.bytes(p.free_bytes) + " free of " + ui.bytes(p.filesystem_bytes)),
         card("pool-checkpoints", "Checkpoints", String(p.checkpoints)),
         card("pool-recoveries", "Recoveries", String(p.recoveries),
              p.failchk_runs + " failchk runs, " + p.worker_restarts + " worker restarts"),
         card("pool-rate", "Request rate", rateText, p.requests + " requests answered"),
         card("pool-latency", "Latency p50 / p90 / p99",
              [p.latency_p50_us, p.latency_p90_us, p.latency_p99_us].map(latency).join(" / ")),
         card("pool-issued", "Values issued", String(p.issued)),
         card("pool-uptime", "Uptime", p.uptime + " s")].forEach(function (c) {
          cards.appendChild(c);
        });
        ui.clear(chartBox).appendChild(ui.sparkline(r, "Requests per second: " + rateText, 320, 60));
        replication(repl, p.replication);
      }, ui.showError);
    }
    return { refresh: refresh };
  }

  /* ---- /generate ---- */

  function generateView(main) {
    main.appendChild(el("h1", { text: "Decode an id" }));
    var id = ui.field("decode-id", "Id from /generate", { inputmode: "numeric", required: true,
                                                           autocomplete: "off" });
    var out = el("div", { id: "decode-out", "aria-live": "polite" });
    var form = el("form", { id: "decode-form" }, [id.row,
      el("button", { type: "submit", text: "Decode" }),
      el("button", { type: "button", id: "generate-one", text: "Generate a new id" })]);
    main.appendChild(form);
    main.appendChild(out);
    main.appendChild(el("p", { class: "help", text: "An id holds its time (10 ms units since " +
      "the configured epoch), an 8-bit sequence within that tick and the 16-bit machine id." }));

    function decode(value) {
      return api.call("/generate/decompose/" + api.seg(value)).then(function (d) {
        ui.showError(null);
        /* the id as typed: the answer's JSON number loses digits past 2^53 in JavaScript */
        var rows = [["Id", value], ["Time", d.time],
                    ["Unix ms", String(d.unix_ms)], ["Sequence", String(d.sequence)],
                    ["Machine", String(d.machine_id)]];
        ui.clear(out).appendChild(el("dl", { class: "details", id: "decoded" },
          rows.reduce(function (acc, r) {
            acc.push(el("dt", { text: r[0] }), el("dd", { text: r[1] }));
            return acc;
          }, [])));
      }, function (err) {
        ui.clear(out);
        ui.showError(err);
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      decode(id.input.value.trim());
    });
    form.querySelector("#generate-one").addEventListener("click", function () {
      api.call("/generate?format=string").then(function (g) {
        id.input.value = g.id;
        decode(g.id);
      }, ui.showError);
    });
    return { refresh: function () { return Promise.resolve(); }, once: true };
  }

  return { view: view, generateView: generateView };
})();
