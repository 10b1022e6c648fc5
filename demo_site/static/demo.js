// The demo page's behaviour. Loaded with the page's CSP nonce after the JSONP
// loader; the buttons get their handlers here because the policy forbids inline
// ones (onclick="...").
(function () {
  'use strict';

  const demo = document.getElementById('demo');
  const API = demo.dataset.apiOrigin;
  const TIMEOUT_MS = Number(demo.dataset.timeoutMs);
  const SLOW_DELAY = Number(demo.dataset.slowDelay);
  const HOSTILE_CALLBACK = demo.dataset.hostileCallback;
  // The policy allows scripts by this nonce only. The loader uses a nonce only
  // when told (so a host allowlist, if a policy had one, would still apply):
  // this page tells it once, for every request. Scripts this page adds by hand
  // need it too; currentScript is null later.
  const NONCE = document.currentScript.nonce;
  jsonp.defaults.nonce = NONCE;

  // The demo API's log of the answers it sent (demo_site/answers.py), open to
  // this page by CORS. The slow endpoint answers after its delay, so the page
  // waits that long, and a little more, for an answer to appear there.
  const ANSWERS = API + '/_demo/answers';
  const ANSWER_WAIT_MS = SLOW_DELAY * 1000 + 3000;
  const ANSWER_POLL_MS = 200;

  const pretty = (value) => JSON.stringify(value, null, 2);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = (start) => ((performance.now() - start) / 1000).toFixed(2) + ' s';

  // state: idle, pending, data (something arrived), refused (the failure the
  // step is about), unexpected (the demo did not behave as described).
  function show(step, state, ...lines) {
    const output = document.getElementById('result-' + step);
    output.dataset.state = state;
    output.textContent = lines.join('\n');
    if (state === 'pending') {
      // A new run: what arrived for the previous one no longer applies.
      const raw = document.getElementById('raw-' + step);
      raw.dataset.state = 'waiting';
      raw.textContent = 'Waiting for the request…';
    }
  }

  // Two lines: what a program branches on, then the message.
  function describe(error) {
    if (error instanceof jsonp.JsonpError) {
      const status = error.status === undefined ? '' : `, status ${error.status}`;
      return `JsonpError, code "${error.code}"${status}\nmessage: ${error.message}`;
    }
    return `${error.name} (${error.constructor.name})\nmessage: ${error.message}`;
  }

  // The scripts added to the page from now until the returned function is
  // called, which returns their URLs: the exact URL of each JSONP request, with
  // the callback name the loader chose.
  function watchScripts() {
    const urls = [];
    const collect = (records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeName === 'SCRIPT' && node.src) urls.push(node.src);
        }
      }
    };
    const observer = new MutationObserver(collect);
    observer.observe(document.head, { childList: true });
    return () => {
      collect(observer.takeRecords());
      observer.disconnect();
      return urls;
    };
  }

  function formatAnswer(url, answer) {
    const headers = answer.headers.map(([name, value]) => `${name}: ${value}`);
    const body = answer.truncated ? answer.body + '\n[…cut short]' : answer.body;
    return [`GET ${url}`, `HTTP ${answer.status}`, ...headers, '', body].join('\n');
  }

  // Show, under the step, what the API answered to GET url: asked of the API's
  // log of answers, until it is there or ANSWER_WAIT_MS have passed.
  async function showArrived(step, url) {
    const raw = document.getElementById('raw-' + step);
    if (url === undefined) {
      raw.dataset.state = 'none';
      raw.textContent = 'Nothing was sent.';
      return;
    }
    const parsed = new URL(url);
    const target = parsed.pathname + parsed.search;
    raw.dataset.state = 'waiting';
    raw.textContent = `GET ${url}\n\nWaiting for the API's answer…`;
    const deadline = performance.now() + ANSWER_WAIT_MS;
    try {
      for (;;) {
        const response = await fetch(ANSWERS + '?target=' + encodeURIComponent(target));
        if (!response.ok) throw new Error(`the API's log answered HTTP ${response.status}`);
        const { answer } = await response.json();
        if (answer) {
          raw.dataset.state = 'shown';
          raw.textContent = formatAnswer(url, answer);
          return;
        }
        if (performance.now() > deadline) throw new Error('none in time');
        await sleep(ANSWER_POLL_MS);
      }
    } catch (error) {
      raw.dataset.state = 'missing';
      raw.textContent = `GET ${url}\n\nNo answer recorded: ${error.message}`;
    }
  }

  // Run a JSONP request and show the exact URL it used and what came back.
  async function withArrived(step, endpoint, request) {
    const stopWatching = watchScripts();
    try {
      await request();
    } finally {
      const url = stopWatching().find((src) => src.startsWith(API + endpoint + '?'));
      await showArrived(step, url);
    }
  }

  function onClick(id, run) {
    const button = document.getElementById(id);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await run();
      } finally {
        button.disabled = false;
        refreshUsage();
      }
    });
  }

  onClick('run-fetch', async () => {
    show('fetch', 'pending', 'Fetching…');
    try {
      const response = await fetch(API + '/api/user');
      show('fetch', 'unexpected', `Not blocked: HTTP ${response.status}. Does the API send CORS headers?`);
    } catch (error) {
      show('fetch', 'refused',
        `Blocked by the same-origin policy: ${error.name}: ${error.message}`,
        'The API answered, but sent no Access-Control-Allow-Origin header, so the'
        + ' browser did not let this page read the answer (What arrived, below).');
    }
    await showArrived('fetch', API + '/api/user');
  });

  onClick('run-jsonp', async () => {
    show('jsonp', 'pending', 'Loading…');
    await withArrived('jsonp', '/api/user', async () => {
      try {
        const user = await jsonp(API + '/api/user');
        show('jsonp', 'data', 'Arrived by JSONP, from the other origin:', pretty(user));
      } catch (error) {
        show('jsonp', 'unexpected', describe(error));
      }
    });
  });

  onClick('run-envelope', async () => {
    show('envelope', 'pending', 'Loading…');
    await withArrived('envelope', '/api/users/nobody', async () => {
      try {
        const user = await jsonp(API + '/api/users/nobody', { envelope: true });
        show('envelope', 'unexpected', 'No error? Received:', pretty(user));
      } catch (error) {
        show('envelope', error.code === 'http' ? 'refused' : 'unexpected',
          describe(error), 'error.data:', pretty(error.data));
      }
    });
  });

  onClick('run-timeout', async () => {
    show('timeout', 'pending', `Waiting at most ${TIMEOUT_MS} ms…`);
    const start = performance.now();
    await withArrived('timeout', '/api/slow', async () => {
      try {
        await jsonp(API + '/api/slow', { params: { delay: SLOW_DELAY }, timeout: TIMEOUT_MS });
        show('timeout', 'unexpected', `Answered in ${seconds(start)}, before the timeout.`);
      } catch (error) {
        show('timeout', error.code === 'timeout' ? 'refused' : 'unexpected',
          `Gave up after ${seconds(start)}:`, describe(error),
          'The script still loads; its late call is ignored.');
      }
    });
  });

  const abortButton = document.getElementById('abort');
  let controller = null;
  abortButton.addEventListener('click', () => controller && controller.abort());

  onClick('run-abort', async () => {
    controller = new AbortController();
    abortButton.disabled = false;
    show('abort', 'pending', `Loading (the API takes ${SLOW_DELAY} s); press Abort…`);
    const start = performance.now();
    await withArrived('abort', '/api/slow', async () => {
      try {
        const data = await jsonp(API + '/api/slow', {
          params: { delay: SLOW_DELAY },
          signal: controller.signal,
        });
        show('abort', 'data', `Not aborted: the answer came after ${seconds(start)}:`, pretty(data));
      } catch (error) {
        show('abort', error.name === 'AbortError' ? 'refused' : 'unexpected',
          `Aborted after ${seconds(start)}:`, describe(error),
          'The request was sent: the API answers anyway, to nobody.');
      } finally {
        abortButton.disabled = true;
        controller = null;
      }
    });
  });

  // Resolves with "load" or "error": what a page can learn about a script.
  function addScript(src) {
    return new Promise((resolve) => {
      const script = document.createElement('script');
      script.nonce = NONCE;
      script.onload = script.onerror = (event) => {
        script.remove();
        resolve(event.type);
      };
      script.src = src;
      document.head.appendChild(script);
    });
  }

  onClick('run-hostile', async () => {
    show('hostile', 'pending', 'Sending…');
    const lines = [];
    try {
      await jsonp(API + '/api/user', { callbackName: HOSTILE_CALLBACK });
      lines.push('The loader sent it?!');
    } catch (error) {
      lines.push(`The loader will not send it: JsonpError, code "${error.code}" (${error.message}).`);
    }
    const src = API + '/api/user?callback=' + encodeURIComponent(HOSTILE_CALLBACK);
    const event = await addScript(src);
    if (event === 'error') {
      lines.push('The hand-written <script> failed to load (error event): no code ran, no alert.',
        'The API refused it with 400 and JSON (What arrived, below).');
    } else {
      lines.push('The hand-written <script> loaded?!');
    }
    show('hostile', event === 'error' ? 'refused' : 'unexpected', ...lines);
    await showArrived('hostile', src);
  });
  // Step 7: moving to CORS.
  const PROFILE = API + '/api/profile';
  const dateOf = (value) => (value ? new Date(value).toUTCString() : 'not set');

  // The loader calls this when an answer announces the end of JSONP.
  const notice = document.getElementById('deprecation-notice');
  jsonp.defaults.onDeprecation = (told) => {
    notice.dataset.state = 'told';
    notice.textContent = [
      `${told.url}`,
      `deprecated since: ${dateOf(told.deprecation)}`,
      `sunset: ${dateOf(told.sunset)}`,
      `more: ${told.link || 'no link'}`,
    ].join('\n');
  };

  async function loadProfile(options, expected) {
    show('cors', 'pending', 'Loading…');
    const stopWatching = watchScripts();
    let url;
    try {
      const user = await jsonp(PROFILE, options);
      const script = stopWatching().find((src) => src.startsWith(PROFILE + '?'));
      url = script || PROFILE;
      const how = script
        ? 'Arrived by JSONP: a <script> ran the answer.'
        : 'Arrived by CORS: fetch read the JSON; no <script> was added.';
      show('cors', (script ? 'jsonp' : 'cors') === expected ? 'data' : 'unexpected',
        how, pretty(user));
    } catch (error) {
      url = stopWatching().find((src) => src.startsWith(PROFILE + '?')) || PROFILE;
      show('cors', 'unexpected', describe(error));
    }
    await showArrived('cors', url);
  }

  onClick('run-cors', () => loadProfile({ preferCors: true, envelope: true }, 'cors'));
  onClick('run-cors-jsonp', () => loadProfile({ envelope: true }, 'jsonp'));

  // The usage panel: the API's counts, read with CORS after every step.
  const usageRows = document.getElementById('usage-rows');
  async function refreshUsage() {
    try {
      const response = await fetch(API + '/api/usage');
      const { pages } = await response.json();
      usageRows.replaceChildren(...pages.map((row) => {
        const tr = document.createElement('tr');
        for (const value of [row.page, row.jsonp, row.cors]) {
          const td = document.createElement('td');
          td.textContent = value;
          tr.append(td);
        }
        return tr;
      }));
      usageRows.dataset.state = 'read';
    } catch (error) {
      usageRows.dataset.state = 'failed';
      usageRows.replaceChildren();
      const tr = usageRows.insertRow();
      const td = tr.insertCell();
      td.colSpan = 3;
      td.textContent = `Could not read the counts: ${error.message}`;
    }
  }
  document.getElementById('refresh-usage').addEventListener('click', refreshUsage);
  refreshUsage();
})();
