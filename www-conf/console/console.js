/*
 * console.js: start-up, the admin token form, the views' routes (#/sequences, #/sequence/NAME,
 * #/prefixes, #/prefix/NAME, #/generate, #/pool) and the refresh loop that polls the view shown.
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.REFRESH_MS = 2000;

(function () {
  var ui = NX.ui, api = NX.api;
  var current = null;  /* the view shown: { refresh, once } */
  var timer = null;
  var generation = 0;  /* a view's loop stops when another view starts */

  /* Show the view the address names. keepStatus: leave the last message (the token's). */
  function route(keepStatus) {
    var hash = window.location.hash || "#/sequences";
    var m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash);
    var name = m && m[2] !== undefined ? safeDecode(m[2]) : null;
    var kind = m ? m[1] : "sequences";
    var main = ui.clear(document.getElementById("main"));
    ui.showError(null);
    if (!keepStatus) ui.say(NX.nextMessage || "");
    NX.nextMessage = "";
    var navKind = { sequence: "sequences", prefix: "prefixes" }[kind] || kind;
    Array.prototype.forEach.call(document.querySelectorAll("nav a[data-view]"), function (a) {
      if (a.getAttribute("data-view") === navKind) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    if (kind === "sequence" && name) current = NX.sequences.sequenceView(main, name);
    else if (kind === "prefixes") current = NX.prefixes.view(main);
    else if (kind === "prefix" && name) current = NX.prefixes.prefixView(main, name);
    else if (kind === "generate") current = NX.pool.generateView(main);
    else if (kind === "pool") current = NX.pool.view(main);
    else current = NX.sequences.view(main);
    var h1 = main.querySelector("h1");
    document.title = (h1 ? h1.textContent + " — " : "") + "nextid console";
    poll(++generation, true);
  }

  function safeDecode(s) {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return s;
    }
  }

  /* Refresh the view now, then every REFRESH_MS while it is shown (once: a single load). */
  function poll(gen, first) {
    if (timer) window.clearTimeout(timer);
    timer = null;
    if (gen !== generation || !current) return;
    if (!first && current.once) return;
    var view = current;
    view.refresh().then(function () {
      if (gen === generation && !view.once && !document.hidden) {
        timer = window.setTimeout(function () { poll(gen, false); }, NX.REFRESH_MS);
      }
    });
  }

  function showToken() {
    var set = !!api.token();
    document.getElementById("token-form").hidden = set;
    document.getElementById("token-state").hidden = !set;
    document.getElementById("token-help").hidden = set;
  }

  function start() {
    var form = document.getElementById("token-form");
    var input = document.getElementById("token-input");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var t = input.value.trim();
      input.value = "";
      if (!t) return;
      api.setToken(t);
      showToken();
      ui.say("Admin token set for this tab.");
      route(true);
    });
    document.getElementById("token-forget").addEventListener("click", function () {
      api.setToken("");
      showToken();
      ui.say("Admin token forgotten.");
      route(true);
      input.focus();
    });
    window.addEventListener("hashchange", function () {
      route(false);
      document.getElementById("main").focus();
    });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) poll(generation, false);
    });
    showToken();
    route(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
