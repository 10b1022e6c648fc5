/*! flask-jsonp loader, ES module | BSD-3-Clause */
// Generated from jsonp.js by `python -m tests.loader_source`: do not edit.
// Types: jsonp.d.mts.

// In Chromium and Firefox alike (test_script_lifecycle.py) the response runs
// with currentScript = its element, then "load" fires; a failure (HTTP error,
// refused, CSP) fires "error" and runs nothing; a removed script still runs
// and fires. So after a timeout or abort the callback stays, ignores the late
// call, and goes at that event; only calls from the request's own script
// count, so a fixed callbackName can be reused meanwhile.

// What the server accepts, minus dots.
const IDENTIFIER = /^[A-Za-z_$][\w$]{0,127}$/;
const NAME_PREFIX = '__jsonp_' + Math.random().toString(36).slice(2, 8) + '_';
let nameCounter = 0;
// Callbacks of requests that gave up while their script was in flight.
const retired = new WeakSet();
// Trusted Types: one policy, made on first use, signs only the URL being set.
let policy;
let signing;

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
  append(encode(callbackParam) + '=' + callbackName);
  return target.href;
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
    } = options || {};
    const script = document.createElement('script');
    let name = callbackName;
    let href;
    try {
      if (name === undefined) {
        do name = NAME_PREFIX + ++nameCounter; while (name in window);
      } else if (!IDENTIFIER.test(name)) {
        throw new TypeError('callbackName is not an identifier');
      } else if (name in window && !retired.has(window[name])) {
        throw new TypeError(`window.${name} is already taken`);
      }
      // Delays are int32: longer ones fire at once.
      if (!(timeout >= 0 && timeout < 2147483648)) throw new TypeError('bad timeout');
      href = buildUrl(url, params, callbackParam, name);
      script.src = scriptUrl(href);
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
      script.remove();
      if (inFlight) retired.add(callback);
      else release();
      if (error) reject(error);
      else resolve(data);
    };
    const callback = (payload) => {
      if (settled || document.currentScript !== script) return;
      if (!envelope) return settle(null, payload);
      const status = payload && payload.meta && payload.meta.status;
      if (typeof status !== 'number') {
        settle(fail('http', 'not an envelope', { data: payload }));
      } else if (status >= 400) {
        settle(fail('http', `HTTP ${status}`, { status, data: payload.data }));
      } else {
        settle(null, payload.data);
      }
    };

    script.onload = script.onerror = (event) => {
      settle(event.type === 'load'
        ? fail('no-callback', 'callback not called')
        : fail('network', 'script failed to load'));
      release();
    };
    if (nonce) script.nonce = nonce;
    if (crossOrigin != null) script.crossOrigin = crossOrigin;
    if (referrerPolicy != null) script.referrerPolicy = referrerPolicy;
    if (timeout > 0) {
      timer = setTimeout(
        () => settle(fail('timeout', `no answer in ${timeout} ms`), undefined, true),
        timeout,
      );
    }
    if (signal) signal.addEventListener('abort', onAbort);
    window[name] = callback;
    (document.head || document.documentElement).appendChild(script);
  });
}

function abortReason(signal) {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

jsonp.JsonpError = JsonpError;
jsonp.defaults = {};

export { jsonp, JsonpError };
