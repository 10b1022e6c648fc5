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

  const pretty = (value) => JSON.stringify(value, null, 2);
  const seconds = (start) => ((performance.now() - start) / 1000).toFixed(2) + ' s';

  // state: idle, pending, data (something arrived), refused (the failure the
  // step is about), unexpected (the demo did not behave as described).
  function show(step, state, ...lines) {
    const output = document.getElementById('result-' + step);
    output.dataset.state = state;
    output.textContent = lines.join('\n');
  }

  // Two lines: what a program branches on, then the message.
  function describe(error) {
    if (error instanceof jsonp.JsonpError) {
      const status = error.status === undefined ? '' : `, status ${error.status}`;
      return `JsonpError, code "${error.code}"${status}\nmessage: ${error.message}`;
    }
    return `${error.name} (${error.constructor.name})\nmessage: ${error.message}`;
  }

  function onClick(id, run) {
    const button = document.getElementById(id);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await run();
      } finally {
        button.disabled = false;
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
        'The API answered (see the server log), but sent no Access-Control-Allow-Origin',
        'header, so the browser did not let this page read the answer.');
    }
  });

  onClick('run-jsonp', async () => {
    show('jsonp', 'pending', 'Loading…');
    try {
      const user = await jsonp(API + '/api/user');
      show('jsonp', 'data', 'Arrived by JSONP, from the other origin:', pretty(user));
    } catch (error) {
      show('jsonp', 'unexpected', describe(error));
    }
  });

  onClick('run-envelope', async () => {
    show('envelope', 'pending', 'Loading…');
    try {
      const user = await jsonp(API + '/api/users/nobody', { envelope: true });
      show('envelope', 'unexpected', 'No error? Received:', pretty(user));
    } catch (error) {
      show('envelope', error.code === 'http' ? 'refused' : 'unexpected',
        describe(error), 'error.data:', pretty(error.data));
    }
  });

  onClick('run-timeout', async () => {
    show('timeout', 'pending', `Waiting at most ${TIMEOUT_MS} ms…`);
    const start = performance.now();
    try {
      await jsonp(API + '/api/slow', { params: { delay: SLOW_DELAY }, timeout: TIMEOUT_MS });
      show('timeout', 'unexpected', `Answered in ${seconds(start)}, before the timeout.`);
    } catch (error) {
      show('timeout', error.code === 'timeout' ? 'refused' : 'unexpected',
        `Gave up after ${seconds(start)}:`, describe(error));
    }
  });

  const abortButton = document.getElementById('abort');
  let controller = null;
  abortButton.addEventListener('click', () => controller && controller.abort());

  onClick('run-abort', async () => {
    controller = new AbortController();
    abortButton.disabled = false;
    show('abort', 'pending', `Loading (the API takes ${SLOW_DELAY} s); press Abort…`);
    const start = performance.now();
    try {
      const data = await jsonp(API + '/api/slow', {
        params: { delay: SLOW_DELAY },
        signal: controller.signal,
      });
      show('abort', 'data', `Not aborted: the answer came after ${seconds(start)}:`, pretty(data));
    } catch (error) {
      show('abort', error.name === 'AbortError' ? 'refused' : 'unexpected',
        `Aborted after ${seconds(start)}:`, describe(error));
    } finally {
      abortButton.disabled = true;
      controller = null;
    }
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
    lines.push(event === 'error'
      ? 'The hand-written <script> failed to load (error event): no code ran, no alert.'
      : 'The hand-written <script> loaded?!');
    // The page cannot read a cross-origin answer; its server can.
    const response = await fetch('/server-side/hostile-callback');
    const answer = await response.json();
    if (answer.error) {
      lines.push(`This page's server could not ask the API: ${answer.error}`);
    } else {
      lines.push('What the API answered, asked again by this page\'s server (the page may not read it):',
        `HTTP ${answer.status} ${answer.content_type}`, pretty(answer.body));
    }
    const refused = event === 'error' && answer.status === 400;
    show('hostile', refused ? 'refused' : 'unexpected', ...lines);
  });
})();
