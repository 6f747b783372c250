#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm ci` through the prepare script, or `npm run build`).
let main;
try {
  main = require('../dist/src/cli/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(String(err.message))) {
    process.stderr.write('davis: the compiled program is missing; run `npm run build` (or `npm ci`) in the project folder first.\n');
    process.exit(2);
  }
  throw err;
}
// `davis catalogue | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(0);
  throw err;
});
main.run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`davis: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
