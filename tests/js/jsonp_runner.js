// Runs JSONP answers in a fresh V8 context, one request per line on stdin.
//
// Request:  {"script": "<body>", "callback": "a.b.c" | null}
// Response: {"calls": [[arg, ...], ...], "error": null | "message",
//            "newGlobals": ["name", ...], "callbackDefined": true | false | null}
//
// When "callback" is given, the path is defined before the script runs as a
// function that records its arguments (objects are created along a dotted path,
// an array for a final [index]). "newGlobals" lists the context's own global
// properties created by the script itself, so a test can prove the answer had no
// other effect than the call. "callbackDefined" tells whether the script sees the
// recording function at that path: false for names a page can never define, such
// as "undefined" or "NaN" (read-only globals); null when no callback was given or
// it is not an identifier path.
"use strict";
const readline = require("readline");
const vm = require("vm");

function defineCallback(context, callback, calls) {
  const match = /^(.*?)(?:\[(\d+)\])?$/.exec(callback);
  const segments = match[1].split(".");
  const record = function () { calls.push(Array.from(arguments)); };
  let holder = context;
  for (const segment of segments.slice(0, -1)) {
    holder = holder[segment] = {};
  }
  const last = segments[segments.length - 1];
  if (match[2] === undefined) {
    holder[last] = record;
  } else {
    holder[last] = [];
    holder[last][Number(match[2])] = record;
  }
}

const IDENTIFIER_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\[\d+\])?$/;

function isDefined(context, callback) {
  if (!IDENTIFIER_PATH.test(callback)) return null;
  try {
    return vm.runInContext(`typeof ${callback} === "function"`, context);
  } catch (err) {
    return false;
  }
}

function run(request) {
  const calls = [];
  const context = vm.createContext({});
  let callbackDefined = null;
  if (request.callback) {
    defineCallback(context, request.callback, calls);
    callbackDefined = isDefined(context, request.callback);
  }
  const before = new Set(Object.getOwnPropertyNames(context));
  let error = null;
  try {
    vm.runInContext(request.script, context, { timeout: 5000 });
  } catch (err) {
    error = String(err && err.stack ? err.stack.split("\n")[0] : err);
  }
  const newGlobals = Object.getOwnPropertyNames(context).filter((n) => !before.has(n));
  return { calls, error, newGlobals, callbackDefined };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let reply;
  try {
    reply = run(JSON.parse(line));
  } catch (err) {
    reply = { calls: [], error: "runner: " + String(err), newGlobals: [] };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
