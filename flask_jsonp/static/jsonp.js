/*! flask-jsonp loader | BSD-3-Clause */
// Types: jsonp.d.ts.
(function () {
  'use strict';

  // --- BEGIN SHARED LOADER (make loader copies it to jsonp.mjs)
  // A script runs with currentScript set, then fires "load"; a failed one fires
  // "error"; a removed one still runs (test_script_lifecycle.py). So a request
  // that gave up keeps its callback, deaf to other scripts, until that event.

  // What the server accepts, minus dots.
  const IDENTIFIER = /^[A-Za-z_$][\w$]{0,127}$/;
  const NAME_PREFIX = '__jsonp_' + Math.random().toString(36).slice(2, 8) + '_';
  let nameCounter = 0;
  // Callbacks of requests that gave up while their script was in flight.
  const retired = new WeakSet();
  // Trusted Types: one policy, made on first use, signs only the URL being set.
  let policy;
  let signing;
  // Deprecated endpoints (URLs without query) the page was told of.
  const announced = new Set();

  class JsonpError extends Error {
    constructor(code, message, url, details) {
      super(message);
      this.name = 'JsonpError';
      this.code = code;
      this.url = url;
      Object.assign(this, details);
    }
  }

  function scriptUrl(href) {
    const types = window.trustedTypes;
    if (!types) return href;
    policy = policy || types.createPolicy('flask-jsonp', {
      createScriptURL: (url) => {
        if (url === signing) return url;
        throw new TypeError('not from jsonp(): ' + url);
      },
    });
    signing = href;
    const signed = policy.createScriptURL(href);
    signing = undefined;
    return signed;
  }

  const encode = encodeURIComponent;

  function buildUrl(url, params, callbackParam, callbackName) {
    const target = new URL(url, document.baseURI);
    if (!/^https?:$/.test(target.protocol)) {
      throw new TypeError('only http: and https: URLs can be loaded');
    }
    const pairs = [];
    for (const [key, value] of Object.entries(params || {})) {
      for (const item of [].concat(value)) {
        if (item != null) pairs.push(encode(key) + '=' + encode(item));
      }
    }
    // Keeps the query as written, and any #fragment after it.
    const append = (pair) => {
      const query = target.search.slice(1);
      target.search = query ? query + '&' + pair : pair;
    };
    if (pairs.length) append(pairs.join('&'));
    if (!callbackParam || target.searchParams.has(callbackParam)) {
      throw new TypeError(`bad callbackParam "${callbackParam}" or already in URL`);
    }
    const json = target.href;
    append(encode(callbackParam) + '=' + callbackName);
    return [json, target.href];
  }

  function jsonp(url, options) {
    return new Promise((resolve, reject) => {
      const {
        params,
        callbackParam = 'callback',
        callbackName,
        timeout = 10000,
        signal,
        envelope = false,
        nonce = jsonp.defaults.nonce,
        crossOrigin,
        referrerPolicy,
        preferCors,
      } = options || {};
      let name = callbackName;
      let script, jsonUrl, href, controller;
      try {
        script = document.createElement('script'); // Throws without a DOM.
        if (name === undefined) {
          do name = NAME_PREFIX + ++nameCounter; while (name in window);
        } else if (!IDENTIFIER.test(name)) {
          throw new TypeError('callbackName is not an identifier');
        } else if (name in window && !retired.has(window[name])) {
          throw new TypeError(`window.${name} is already taken`);
        }
        // Delays are int32: longer ones fire at once.
        if (!(timeout >= 0 && timeout < 2147483648)) throw new TypeError('bad timeout');
        [jsonUrl, href] = buildUrl(url, params, callbackParam, name);
        script.src = scriptUrl(href);
        if (preferCors) controller = new AbortController();
      } catch (error) {
        reject(new JsonpError('setup', error.message, String(url)));
        return;
      }
      if (signal && signal.aborted) {
        reject(abortReason(signal));
        return;
      }

      let settled = false;
      let timer;
      const fail = (code, message, details) =>
        new JsonpError(code, `${message}: ${href}`, href, details);
      const onAbort = () => settle(abortReason(signal), undefined, true);
      const release = () => {
        script.onload = script.onerror = null;
        retired.delete(callback);
        if (window[name] === callback) delete window[name];
      };
      const settle = (error, data, inFlight) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        if (controller) controller.abort();
        script.remove();
        if (inFlight) retired.add(callback);
        else release();
        if (error) reject(error);
        else resolve(data);
      };
      const callback = (payload) => {
        if (settled || document.currentScript !== script) return;
        if (!envelope) return settle(null, payload);
        const meta = payload && payload.meta;
        const status = meta && meta.status;
        if (typeof status !== 'number') {
          return settle(fail('http', 'not an envelope', { data: payload }));
        }
        const { data } = payload;
        settle(status >= 400 && fail('http', `HTTP ${status}`, { status, data }), data);
        announce(jsonUrl, meta.deprecation, meta.sunset, meta.link);
      };
      const load = () => {
        if (settled) return;
        script.onload = script.onerror = (event) => {
          settle(event.type === 'load'
            ? fail('no-callback', 'callback not called')
            : fail('network', 'script failed to load'));
          release();
        };
        if (nonce) script.nonce = nonce;
        if (crossOrigin != null) script.crossOrigin = crossOrigin;
        if (referrerPolicy != null) script.referrerPolicy = referrerPolicy;
        window[name] = callback;
        (document.head || document.documentElement).appendChild(script);
      };

      if (timeout > 0) {
        timer = setTimeout(
          () => settle(fail('timeout', `no answer in ${timeout} ms`), undefined, true),
          timeout,
        );
      }
      if (signal) signal.addEventListener('abort', onAbort);
      if (!controller) return load();
      // Anything but OK JSON (CORS or CSP refusal, error status): JSONP decides.
      fetch(jsonUrl, { mode: 'cors', referrerPolicy, signal: controller.signal })
        .then((response) => response.ok && response.json().then((data) => {
          const header = (key) => response.headers.get(key);
          const link = /<([^>]*)>[^<]*rel="?deprecation/i.exec(header('link')) || [];
          settle(null, data);
          announce(jsonUrl, header('deprecation'), header('sunset'), link[1]);
        }))
        .then(load, load);
    });
  }

  function abortReason(signal) {
    return signal.reason !== undefined
      ? signal.reason
      : new DOMException('This operation was aborted', 'AbortError');
  }

  // "@<unix seconds>" (RFC 9745), an HTTP date or ISO 8601.
  function toDate(value) {
    const date = new Date(/^@/.test(value) ? value.slice(1) * 1000 : value);
    return value && date > 0 ? date : undefined;
  }

  function announce(url, deprecation, sunset, link) {
    url = url.split(/[?#]/)[0];
    if (!(deprecation || sunset) || announced.has(url)) return;
    announced.add(url);
    deprecation = toDate(deprecation);
    const notice = { url, deprecation, sunset: toDate(sunset), link };
    console.warn(`jsonp: ${url} is deprecated`, notice);
    const hook = jsonp.defaults.onDeprecation;
    // Later: what the hook throws is reported, not swallowed.
    if (hook) setTimeout(hook, 0, notice);
  }

  jsonp.JsonpError = JsonpError;
  jsonp.defaults = {};
  // --- END SHARED LOADER ---

  if (typeof module === 'object') module.exports = jsonp.jsonp = jsonp;
  if (typeof window === 'object') window.jsonp = jsonp;
})();
