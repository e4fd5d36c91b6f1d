#!/usr/bin/env node
// The initial JavaScript of the built portal, gzipped: the entry script and the chunks it
// imports statically (modulepreload), not the lazy pages nor lightweight-charts. Fails above
// the budget. `--json`: one JSON line ({ initial_kb, budget_kb, files }) instead of the text.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET_KB = 200;
const args = process.argv.slice(2);
const json = args.includes('--json');
const where = args.find((a) => !a.startsWith('--'));
const dist = resolve(where ?? resolve(dirname(fileURLToPath(import.meta.url)), '../dist'));
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
const files = {};
for (const file of new Set(initial)) {
  const size = gzipSync(readFileSync(join(dist, file))).length;
  total += size;
  files[file] = size;
  if (!json) console.log(`  ${file}: ${(size / 1024).toFixed(1)} kB gzipped`);
}
const kb = total / 1024;
if (json) console.log(JSON.stringify({ initial_kb: kb, budget_kb: BUDGET_KB, files }));
else console.log(`initial JS: ${kb.toFixed(1)} kB gzipped (budget ${BUDGET_KB} kB)`);
if (kb > BUDGET_KB) {
  console.error('bundle check failed: the initial JavaScript is over budget');
  process.exit(1);
}
