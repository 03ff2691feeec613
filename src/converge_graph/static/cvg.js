/* converge-graph browser SDK: window.cvg({...}) as in the Converge docs.
 * Load it with the snippet `converge-graph sources add NAME --kind web` prints:
 *   <script>window.cvg||(cvg=function(){cvg.process?cvg.process.apply(cvg,arguments):cvg.queue.push(arguments)},cvg.queue=[]);</script>
 *   <script async src="https://HOST/v1/cvg.js?token=TOKEN"></script>
 * Calls made before this file loads wait in cvg.queue and are sent, in order, on load.
 * The browser id lives in the first-party cookie __cvg_uid; it is sent as cookieId.
 */
(function () {
  "use strict";
  var COOKIE = "__cvg_uid";
  var MAX_AGE = 63072000; // two years

  function currentScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/v1\/cvg\.js(\?|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  var script = currentScript();
  var src = new URL(script ? script.src : location.href, location.href);
  var token = src.searchParams.get("token");
  var endpoint = src.origin + "/v1/collect/" + encodeURIComponent(token || "");

  function readCookie() {
    var m = document.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([A-Za-z0-9_.\\-]+)"));
    return m ? m[1] : null;
  }

  function writeCookie(id) {
    document.cookie = COOKIE + "=" + id + "; path=/; max-age=" + MAX_AGE + "; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var uid = readCookie();
  if (!uid) {
    uid = newId();
    writeCookie(uid);
  }

  function send(params) {
    if (!params || typeof params !== "object") {
      return Promise.reject(new Error("cvg() takes one object, e.g. cvg({method: 'track', eventName: 'Viewed Product'})"));
    }
    var body = {};
    for (var key in params) {
      if (Object.prototype.hasOwnProperty.call(params, key)) body[key] = params[key];
    }
    if (!body.method) body.method = "track";
    body.cookieId = uid;
    return fetch(endpoint, {
      method: "POST",
      keepalive: true,
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) {
          var err = new Error((data.error && data.error.message) || ("cvg: HTTP " + resp.status));
          err.response = data;
          throw err;
        }
        if (data.cookie_id && data.cookie_id !== uid) {
          uid = data.cookie_id;
          writeCookie(uid);
        }
        return data;
      });
    });
  }

  function process() {
    var result = send(arguments[0]);
    result["catch"](function (err) {
      if (window.console) console.warn("cvg:", err.message);
    });
    return result;
  }

  var stub = window.cvg;
  var queued = stub && stub.queue ? Array.prototype.slice.call(stub.queue) : [];
  if (typeof stub === "function") {
    stub.process = process;
  } else {
    window.cvg = function () { return process.apply(null, arguments); };
    window.cvg.process = process;
  }
  window.cvg.queue = [];
  window.cvg.uid = function () { return uid; };
  for (var i = 0; i < queued.length; i++) process.apply(null, queued[i]);
})();
