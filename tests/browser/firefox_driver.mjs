// Drives Debian's firefox-esr over WebDriver BiDi with puppeteer-core, for the
// browser tests (tests/browser/engines.py is the Python side).
//
//   node firefox_driver.mjs NODE_MODULES FIREFOX
//
// Reads one JSON request a line on stdin, {id, op, ...}, and writes one JSON
// reply a line on stdout, {id, value} or {id, error}, with the page's events
// (uncaught errors, console messages, dialogs) since the last reply. It stops
// when stdin closes.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

const [nodeModules, executablePath] = process.argv.slice(2);
const require = createRequire(resolve(nodeModules, 'noop.js'));
const puppeteer = require('puppeteer-core');

// Polling interval of waitForFunction, in ms: polled from here, not from the
// page, so that the page's own timers (which some tests count) are left alone.
const POLL_MS = 20;

// Milliseconds a page action may take unless told otherwise, as in Playwright's
// tests (tests/browser/engines.py PAGE_TIMEOUT_MS).
const PAGE_TIMEOUT_MS = 5000;

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath,
  headless: true,
  protocol: 'webDriverBiDi',
  // Nothing reaches the network on its own, and http://localhost stays http.
  extraPrefsFirefox: {
    'dom.security.https_first': false,
    'dom.security.https_only_mode': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'browser.safebrowsing.update.enabled': false,
    'extensions.update.enabled': false,
    'app.update.enabled': false,
  },
});

const pages = new Map();
let nextPageId = 0;

function pageOf(request) {
  const entry = pages.get(request.page);
  if (!entry) throw new Error(`no page ${request.page}`);
  return entry;
}

// Like Playwright: `expression` is a script whose completion value, if it is a
// function, is called with `arg`; the result is awaited and comes back as JSON.
// BiDi's evaluation is not subject to the page's Content-Security-Policy, where
// eval() and new Function() would be.
async function evaluate(page, expression, arg) {
  const handle = await page.evaluateHandle(expression);
  try {
    const text = await handle.evaluate(async (value, arg) => {
      const result = await (typeof value === 'function' ? value(arg) : value);
      return JSON.stringify(result === undefined ? null : result);
    }, arg ?? null);
    return JSON.parse(text);
  } finally {
    await handle.dispose();
  }
}

// Puppeteer turns every "javascript" log entry of BiDi into a pageerror, but
// Firefox also logs its own reports there (CSP violations, CORS refusals), which
// Chromium logs as console errors: only "Name: message" of an Error (e.g.
// "TypeError: x is not a function") or "uncaught exception: ..." (a thrown
// non-Error) is an uncaught exception.
function classifyLogEntry(text) {
  return /^(\w*(Error|Exception): |uncaught exception: )/.test(text) ? 'errors' : 'console';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const operations = {
  async newPage() {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    const events = { errors: [], console: [], dialogs: [] };
    page.on('pageerror', (error) => {
      const kind = classifyLogEntry(error.message);
      events[kind].push(kind === 'errors' ? error.message : `error: ${error.message}`);
    });
    page.on('console', (message) => {
      events.console.push(`${message.type()}: ${message.text()}`);
    });
    page.on('dialog', async (dialog) => {
      events.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    const id = ++nextPageId;
    pages.set(id, { context, page, events });
    return id;
  },
  async closePage(request) {
    const { context } = pageOf(request);
    pages.delete(request.page);
    await context.close();
  },
  async goto(request) {
    const response = await pageOf(request).page.goto(request.url, {
      timeout: request.timeoutMs,
    });
    return response ? response.status() : null;
  },
  async url(request) {
    return pageOf(request).page.url();
  },
  async evaluate(request) {
    return evaluate(pageOf(request).page, request.expression, request.arg);
  },
  async waitForFunction(request) {
    const { page } = pageOf(request);
    const deadline = Date.now() + request.timeoutMs;
    for (;;) {
      const value = await evaluate(page, request.expression, request.arg);
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(`waitForFunction: still false after ${request.timeoutMs} ms`);
      }
      await sleep(POLL_MS);
    }
  },
  async addInitScript(request) {
    await pageOf(request).page.evaluateOnNewDocument(request.script);
  },
  async addScriptTag(request) {
    await pageOf(request).page.addScriptTag({ url: request.url });
  },
  async click(request) {
    await pageOf(request).page.click(request.selector);
  },
  async screenshot(request) {
    await pageOf(request).page.screenshot({ path: request.path, fullPage: true });
  },
  async version() {
    return browser.version();
  },
};

function reply(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function takeEvents(request) {
  const entry = pages.get(request.page);
  if (!entry) return undefined;
  const { events } = entry;
  const taken = { ...events };
  for (const kind of Object.keys(events)) events[kind] = [];
  return taken;
}

// Each request runs on its own, so that one that never ends (a page that hangs)
// holds up nothing else: Python gives up on it and goes on.
async function handle(request) {
  const operation = operations[request.op];
  try {
    if (!operation) throw new Error(`unknown operation ${request.op}`);
    const value = await operation(request);
    reply({ id: request.id, value: value ?? null, events: takeEvents(request) });
  } catch (error) {
    const text = String((error && error.stack) || error);
    reply({ id: request.id, error: text, events: takeEvents(request) });
  }
}

const pending = new Set();
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const task = handle(JSON.parse(line));
  pending.add(task);
  task.finally(() => pending.delete(task));
}
await Promise.race([Promise.allSettled(pending), sleep(5000)]);
await browser.close();
