/*
 * api.js: the console's only way to nextid, its JSON endpoints on this same host and port, and
 * the admin token. The token lives in this tab's sessionStorage only, goes out as the Bearer
 * header of admin calls, and is never written anywhere else (no log, no URL, no page text).
 */
"use strict";

var NX = window.NX || {};
window.NX = NX;

NX.api = (function () {
  var KEY = "nextid.adminToken";
  var TIMEOUT_MS = 10000;

  function token() {
    try {
      return window.sessionStorage.getItem(KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(KEY, value);
      } else {
        window.sessionStorage.removeItem(KEY);
      }
    } catch (e) {
      /* storage refused (private mode): admin actions then stay unavailable */
    }
  }

  /* A name as one path segment. */
  function seg(name) {
    return encodeURIComponent(name);
  }

  /* An error with the service's own title and sentence, and the HTTP status. */
  function ApiError(status, title, message, body) {
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.message = message;
    this.body = body;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.toString = function () {
    return this.title + (this.message ? ": " + this.message : "");
  };

  /*
   * One request. opts: method, body (an object, sent as JSON), admin (send the token), text
   * (answer as text, not JSON). Resolves with the parsed answer; rejects with an ApiError.
   */
  function call(path, opts) {
    opts = opts || {};
    var headers = { "Accept": opts.text ? "text/plain" : "application/json" };
    var init = { method: opts.method || "GET", headers: headers, cache: "no-store",
                 credentials: "omit", redirect: "error" };
    if (opts.admin) {
      var t = token();
      if (!t) {
        return Promise.reject(new ApiError(0, "Admin token needed",
          "Type the admin token at the top of the page first."));
      }
      headers.Authorization = "Bearer " + t;
    }
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    }
    return window.fetch(path, init).then(function (resp) {
      return resp.text().then(function (text) {
        if (timer) window.clearTimeout(timer);
        var body = null;
        if (!opts.text || !resp.ok) {
          try {
            body = text ? JSON.parse(text) : null;
          } catch (e) {
            throw new ApiError(resp.status, "Unexpected answer",
              "HTTP " + resp.status + " without JSON from " + path + ".");
          }
        }
        if (!resp.ok) {
          var title = body && body.error ? body.error : "HTTP " + resp.status;
          var message = body && body.message ? body.message : "";
          throw new ApiError(resp.status, title, message, body);
        }
        return opts.text ? text : body;
      });
    }, function () {
      if (timer) window.clearTimeout(timer);
      throw new ApiError(0, "No answer", "nextid did not answer " + path + "; is it running?");
    });
  }

  /* Every item of a paged list (?after=&limit=), up to max items. Resolves with
   * { items: [...], more: true when the list goes on past max }. */
  function all(path, listKey, nameKey, opts, max) {
    var items = [];
    var PAGE = 1000;
    function page(after) {
      var q = path + (path.indexOf("?") < 0 ? "?" : "&") + "limit=" + PAGE +
              (after === null ? "" : "&after=" + seg(after));
      return call(q, opts).then(function (body) {
        var got = body[listKey] || [];
        items = items.concat(got);
        if (got.length < PAGE) return { items: items, more: false };
        if (items.length >= max) return { items: items.slice(0, max), more: true };
        return page(got[got.length - 1][nameKey]);
      });
    }
    return page(null);
  }

  return { token: token, setToken: setToken, call: call, all: all, seg: seg,
           ApiError: ApiError };
})();
