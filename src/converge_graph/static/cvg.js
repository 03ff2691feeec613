/* converge-graph browser SDK: window.cvg({...}) as in the Converge docs.
 * Load it with the snippet `converge-graph sources add NAME --kind web` prints:
 *   <script>window.cvg||(cvg=function(){cvg.process?cvg.process.apply(cvg,arguments):cvg.queue.push(arguments)},cvg.queue=[]);</script>
 *   <script async src="https://HOST/v1/cvg.js?token=TOKEN"></script>
 * Calls made before this file loads wait in cvg.queue and are sent, in order, on load.
 * The browser id lives in the first-party cookie __cvg_uid; it is sent as cookieId, so no
 * third-party cookie is needed (requests go without credentials).
 * A shop trusts this with conversions, so:
 *  - a call survives the page going away (fetch keepalive; sendBeacon without fetch);
 *  - a network error, 429 or 5xx is retried with exponential backoff, honouring
 *    Retry-After; track and forward calls get an eventID when they have none, so a retry
 *    is deduplicated by the server and never makes a second event;
 *  - nothing throws into the page: cvg() returns a promise that always resolves, to the
 *    answer's JSON ({error: {...}} when refused), and refusals are logged to the console.
 */
(function () {
  "use strict";
  var COOKIE = "__cvg_uid";
  var MAX_AGE = 63072000; // two years
  var TRIES = 4; // first attempt + 3 retries: about 1 s, 2 s, 4 s apart
  var KEEPALIVE_MAX = 60000; // browsers refuse keepalive bodies over 64 KiB in flight

  function warn(message) {
    try { if (window.console) console.warn("cvg: " + message); } catch (e) { /* never throw */ }
  }

  function scriptSrc() {
    if (document.currentScript && document.currentScript.src) return document.currentScript.src;
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/v1\/cvg\.js(\?|$)/.test(scripts[i].src)) return scripts[i].src;
    }
    return location.href;
  }

  function readCookie() {
    var m = document.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([A-Za-z0-9_.\\-]+)"));
    return m ? m[1] : null;
  }

  function writeCookie(id) {
    document.cookie = COOKIE + "=" + id + "; path=/; max-age=" + MAX_AGE + "; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function newId() {
    var c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.random() * 256;
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // Milliseconds before retry number `n` (1, 2, …): Retry-After when the server said, else
  // 2^(n-1) s with jitter so that many browsers do not come back in step.
  function backoff(n, retryAfter) {
    var seconds = parseFloat(retryAfter);
    if (seconds >= 0) return Math.min(seconds, 60) * 1000;
    return Math.pow(2, n - 1) * 1000 * (0.75 + Math.random() / 2);
  }

  var endpoint, uid;

  // One attempt: {status, data, retryAfter}; status 0 for a network error.
  function attempt(payload) {
    if (!window.fetch) {
      var sent = navigator.sendBeacon &&
        navigator.sendBeacon(endpoint, new Blob([payload], { type: "text/plain" }));
      return Promise.resolve(sent ? { status: 202, data: {} } : { status: 0 });
    }
    return fetch(endpoint, {
      method: "POST",
      keepalive: payload.length < KEEPALIVE_MAX,
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: payload
    }).then(function (resp) {
      return resp.json()["catch"](function () { return {}; }).then(function (data) {
        return { status: resp.status, data: data, retryAfter: resp.headers.get("Retry-After") };
      });
    }, function () { return { status: 0 }; });
  }

  function retryable(status) {
    return status === 0 || status === 429 || status >= 500;
  }

  function send(params) {
    if (!params || typeof params !== "object") {
      var usage = "cvg() takes one object, e.g. cvg({method: 'track', eventName: 'Viewed Product'})";
      warn(usage);
      return Promise.resolve({ error: { code: "usage", message: usage } });
    }
    var body = {};
    for (var key in params) {
      if (Object.prototype.hasOwnProperty.call(params, key)) body[key] = params[key];
    }
    if (!body.method) body.method = "track";
    if ((body.method === "track" || body.method === "forward") && body.eventID == null) {
      body.eventID = newId(); // once per call: every retry carries the same id
    }
    body.cookieId = uid;
    var payload = JSON.stringify(body);
    var n = 0;

    function next() {
      n += 1;
      return attempt(payload).then(function (got) {
        if (retryable(got.status) && n < TRIES) {
          return sleep(backoff(n, got.retryAfter)).then(next);
        }
        var data = got.data || {};
        if (got.status < 200 || got.status >= 300) {
          var error = data.error || { code: "network", message: "no answer from " + endpoint };
          warn(error.message + (n > 1 ? " (after " + n + " tries)" : ""));
          return { error: error };
        }
        if (data.cookie_id && data.cookie_id !== uid) {
          uid = data.cookie_id;
          writeCookie(uid);
        }
        return data;
      });
    }
    return next();
  }

  function process() {
    try {
      return send(arguments[0])["catch"](function (err) {
        warn(err && err.message);
        return { error: { code: "sdk", message: String(err && err.message) } };
      });
    } catch (err) {
      warn(err && err.message);
      return Promise.resolve({ error: { code: "sdk", message: String(err && err.message) } });
    }
  }

  try {
    var src = new URL(scriptSrc(), location.href);
    endpoint = src.origin + "/v1/collect/" + encodeURIComponent(src.searchParams.get("token") || "");
    uid = readCookie();
    if (!uid) {
      uid = newId();
      writeCookie(uid);
    }
    var stub = window.cvg;
    var queued = stub && stub.queue ? Array.prototype.slice.call(stub.queue) : [];
    // The stub forwards to .process but returns nothing; the real cvg returns the promise.
    if (typeof stub === "function") stub.process = process;
    window.cvg = function () { return process.apply(null, arguments); };
    window.cvg.process = process;
    window.cvg.queue = [];
    window.cvg.uid = function () { return uid; };
    for (var i = 0; i < queued.length; i++) process.apply(null, queued[i]);
  } catch (err) {
    warn("could not start: " + (err && err.message));
  }
})();
