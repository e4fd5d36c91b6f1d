#!/usr/bin/env node
// Fails when the checked-in OpenAPI document or the client types generated from it differ from
// what the API produces now: `python -m tradebot.api.openapi` into a temporary file, then
// openapi-typescript on it, both compared with the files in git.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(frontend, '..');
const python = process.env.PYTHON ?? (existsSync(join(repo, '.venv/bin/python')) ? join(repo, '.venv/bin/python') : 'python3');
const scratch = mkdtempSync(join(tmpdir(), 'tradebot-api-'));
try {
  const freshDocument = join(scratch, 'openapi.json');
  const freshTypes = join(scratch, 'schema.d.ts');
  execFileSync(python, ['-m', 'tradebot.api.openapi', freshDocument], { cwd: repo, stdio: 'inherit' });
  execFileSync(
    join(frontend, 'node_modules/.bin/openapi-typescript'),
    [freshDocument, '-o', freshTypes, '--default-non-nullable', 'false'],
    { cwd: frontend, stdio: 'ignore' },
  );
  const stale = [
    ['openapi.json', freshDocument],
    ['src/api/schema.d.ts', freshTypes],
  ].filter(([checkedIn, fresh]) => readFileSync(join(frontend, checkedIn), 'utf8') !== readFileSync(fresh, 'utf8'));
  if (stale.length > 0) {
    console.error(`check:api: stale ${stale.map(([f]) => f).join(' and ')}; regenerate with:`);
    console.error('  (cd .. && .venv/bin/python -m tradebot.api.openapi frontend/openapi.json) && npm run gen:api');
    process.exit(1);
  }
  console.log('check:api: openapi.json and src/api/schema.d.ts match the API');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
