// The Express 5 side of the HTTP benchmark: res.json and res.jsonp on the same
// payloads as the Flask app, one process, default settings.
//
//   NODE_PATH=.cache/bench-npm/node_modules \
//     node benchmarks/express_server.js PORT PAYLOAD_DIR
//
// GET /json/<size> answers JSON, GET /jsonp/<size>?callback=name answers JSONP;
// <size> is a file <size>.json in PAYLOAD_DIR, parsed once at start-up and
// serialized again on every request, as the Flask views do.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const express = require('express');

const [port, payloadDir] = process.argv.slice(2);
if (!port || !payloadDir) {
  console.error('usage: node express_server.js PORT PAYLOAD_DIR');
  process.exit(2);
}

const payloads = {};
for (const file of fs.readdirSync(payloadDir)) {
  if (file.endsWith('.json')) {
    const text = fs.readFileSync(path.join(payloadDir, file), 'utf8');
    payloads[path.basename(file, '.json')] = JSON.parse(text);
  }
}

const app = express();

app.get('/json/:size', (req, res) => {
  const payload = payloads[req.params.size];
  if (payload === undefined) return res.sendStatus(404);
  return res.json(payload);
});

app.get('/jsonp/:size', (req, res) => {
  const payload = payloads[req.params.size];
  if (payload === undefined) return res.sendStatus(404);
  return res.jsonp(payload);
});

const server = app.listen(Number(port), '127.0.0.1', () => {
  console.log(`express listening on 127.0.0.1:${port}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
