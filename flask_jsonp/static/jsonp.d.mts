// Types of jsonp.mjs. Generated from jsonp.d.ts by `python -m tests.loader_source`
// (the same, without the classic script's global): do not edit.

/**
 * Types for the flask-jsonp browser loader.
 *
 * - `jsonp.mjs` (ES module) exports `jsonp` and `JsonpError` and creates no global;
 *   its types are `jsonp.d.mts`.
 * - `jsonp.js` (classic script) defines the global `jsonp`, with the error class as
 *   `jsonp.JsonpError`; `jsonp.d.ts` also declares that global, which is only true
 *   at run time on pages that load the classic script. Under CommonJS
 *   (`require("flask-jsonp-loader")`, in Node.js or a bundler) it is also
 *   `module.exports`, which has the properties `jsonp` and `JsonpError` too.
 * - Without a DOM (Node.js, server-side rendering) both load, and `jsonp()`
 *   rejects with code "setup".
 */

/** Stable reasons for a rejection; branch on `error.code`. */
export type JsonpErrorCode =
  /** The script failed to load: refused connection, HTTP error status, CSP. */
  | 'network'
  /** The script loaded but never called the callback. */
  | 'no-callback'
  /** No response within `timeout` ms. */
  | 'timeout'
  /** With `envelope`: `meta.status` >= 400 (see `status`), or no envelope at all. */
  | 'http'
  /**
   * Bad arguments (not an http(s) URL, a callback name already taken, ...), a
   * browser without ES2017, a Trusted Types policy the page does not allow, or no
   * DOM at all (Node.js, server-side rendering).
   */
  | 'setup';

/** A query parameter value; `null` and `undefined` are left out. */
export type JsonpParamValue = string | number | boolean | null | undefined;

export interface JsonpOptions {
  /**
   * Query parameters, URL-encoded and appended to the URL's own query (which is
   * kept as written), before any `#fragment`. An array repeats the key.
   */
  params?: Record<string, JsonpParamValue | readonly JsonpParamValue[]>;
  /** Name of the query parameter that carries the callback name. Default "callback". */
  callbackParam?: string;
  /**
   * A fixed callback name (a plain identifier), for cacheable URLs. Rejected with
   * code "setup" when `window` already has that property. By default each request
   * gets a fresh name that is never reused in the page.
   */
  callbackName?: string;
  /** Milliseconds before rejecting with code "timeout". Default 10000; 0 disables. */
  timeout?: number;
  /**
   * Aborting rejects with `signal.reason`, or a DOMException named "AbortError";
   * an already aborted signal rejects at once without a request.
   */
  signal?: AbortSignal;
  /**
   * The server wraps the data as `{"meta": {"status": N}, "data": ...}` (flask-jsonp
   * `@jsonp(envelope=True)`): resolve with `data`, or reject with code "http" when
   * `status` >= 400. Default false.
   */
  envelope?: boolean;
  /**
   * Nonce for the script element, for pages whose Content-Security-Policy allows
   * scripts by nonce. Default: `jsonp.defaults.nonce`, itself unset: the loader
   * never copies the page's nonce on its own, so that a host allowlist in the
   * policy still applies. An empty string sets none. Under `'strict-dynamic'` the
   * scripts the loader adds need none.
   */
  nonce?: string;
  /** Sets the script's `crossOrigin` (the server must then answer with CORS headers). */
  crossOrigin?: '' | 'anonymous' | 'use-credentials';
  /** Sets the script's `referrerPolicy`, and the CORS fetch's with `preferCors`. */
  referrerPolicy?: ReferrerPolicy;
  /**
   * First `fetch` the URL in CORS mode, without the callback parameter (cookies
   * only to the page's own origin, as `fetch` does by default). An OK answer with
   * a JSON body resolves the promise: no script element, no global callback. Any
   * other outcome (CORS or Content-Security-Policy refusal, network error, an
   * error status, a body that is not JSON) falls back to JSONP, which then settles
   * the promise as without this option. `timeout` and `signal` cover both
   * attempts; nothing falls back after a timeout or an abort. The CORS answer is
   * plain JSON even with `envelope`. Default false.
   */
  preferCors?: boolean;
}

/**
 * What the server said about an endpoint's retirement: RFC 9745 `Deprecation`,
 * RFC 8594 `Sunset` and a `Link` with `rel="deprecation"` (headers of a CORS
 * answer, when the server exposes them), or the envelope's `meta.deprecation`,
 * `meta.sunset` and `meta.link` (flask-jsonp's `deprecation`, `sunset` and
 * `deprecation_link` options).
 */
export interface JsonpDeprecation {
  /** The endpoint: the request's URL without its query and fragment. */
  url: string;
  /** When the endpoint was, or will be, deprecated; undefined if not told or unreadable. */
  deprecation?: Date;
  /**
   * When the endpoint stops answering (flask-jsonp: stops answering JSONP);
   * undefined if not told or unreadable.
   */
  sunset?: Date;
  /** A page about the deprecation (migration notes). */
  link?: string;
}

/** The error every rejection uses, except an abort. */
export declare class JsonpError extends Error {
  constructor(
    code: JsonpErrorCode,
    message: string,
    url: string,
    details?: { status?: number; data?: unknown },
  );
  name: 'JsonpError';
  /** Why the request failed. */
  code: JsonpErrorCode;
  /**
   * The URL of the JSONP request, callback parameter included, even for a timeout
   * during `preferCors`'s fetch (for "setup": as given).
   */
  url: string;
  /** With code "http": the envelope's `meta.status` (absent when there was no envelope). */
  status?: number;
  /** With code "http": the envelope's `data` (the whole response when there was no envelope). */
  data?: unknown;
}

/** Loader-wide defaults, on `jsonp.defaults`: set them once, at start-up. */
export interface JsonpDefaults {
  /**
   * The nonce of every request that passes no `nonce` option. Default: unset (no
   * nonce). E.g. `jsonp.defaults.nonce = document.currentScript.nonce` in a script
   * of the page that carries the nonce.
   */
  nonce?: string;
  /**
   * Called with each notice of deprecation, once per endpoint and page load, after
   * the request settled, e.g. to report it. The loader also logs each one once
   * with `console.warn`. A notice needs a deprecation or a sunset from the server,
   * which a JSONP answer carries only with `envelope` (a script can't read headers).
   * Set it before the first request: notices already given are not repeated.
   */
  onDeprecation?: (notice: JsonpDeprecation) => void;
}

export interface Jsonp {
  /**
   * Load `url` as a JSONP script and resolve with the data its callback receives.
   *
   * Settles exactly once; on every path it removes the script element, the global
   * callback, the timer and the abort listener. A response that arrives after a
   * timeout or an abort is ignored without an error.
   *
   * @param url An http: or https: URL, absolute or relative to the page.
   */
  <T = unknown>(url: string | URL, options?: JsonpOptions): Promise<T>;
  readonly JsonpError: typeof JsonpError;
  /** Defaults for every request. */
  readonly defaults: JsonpDefaults;
}

export declare const jsonp: Jsonp;
