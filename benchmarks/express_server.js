// Express 5 for the HTTP benchmark: res.jsonp on the Flask app's payloads, one
// process, default settings.
//   NODE_PATH=.cache/bench-npm/node_modules node express_server.js PORT PAYLOADS
// PAYLOADS is a JSON file {"<size>": payload}, parsed once; every request
// serializes its payload again, as the Flask views do.
'use strict';

const fs = require('node:fs');
const express = require('express');

const [port, payloadFile] = process.argv.slice(2);
const payloads = JSON.parse(fs.readFileSync(payloadFile, 'utf8'));
const app = express();

app.get('/jsonp/:size', (req, res) => {
  const payload = payloads[req.params.size];
  return payload === undefined ? res.sendStatus(404) : res.jsonp(payload);
});

const server = app.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
