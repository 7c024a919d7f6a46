/**
 * Runs once before the test projects (in Node): builds the fixtures that the tests load in every
 * runtime, the browser included, where nothing can be bundled on the fly.
 *
 * - `test/.generated/bundled-app.mjs`: `test/fixtures/bundled-app.ts` with waitsafe and its
 *   inspector bundled into one file (not minified, so each statement keeps its own line), and
 *   `bundled-app.lines.mjs`: the line of the bundle that constructs each named primitive.
 * - `test/.generated/shared-worker.mjs`: the worker script of the thread tests
 *   (`test/fixtures/shared-worker.ts`, with what it imports of waitsafe bundled in), which Node's
 *   `worker_threads` (no TypeScript there) and a Web Worker in the browser load as plain JS.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export async function setup(): Promise<void> {
  const out = join(here, '.generated');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'fixtures', 'bundled-app.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    outfile: join(out, 'bundled-app.mjs'),
    logLevel: 'silent',
  });
  const lines: Record<string, number> = {};
  readFileSync(join(out, 'bundled-app.mjs'), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const name = /:(bundled-[a-z]+)`/.exec(text)?.[1];
      if (name !== undefined) lines[name] = i + 1;
    });
  writeFileSync(join(out, 'bundled-app.lines.mjs'), `export default ${JSON.stringify(lines, null, 2)};\n`);
  await build({
    entryPoints: [join(here, 'fixtures', 'shared-worker.ts')],
    bundle: true,
    format: 'esm',
    // Top-level await: the worker loads `node:worker_threads` by a dynamic import on old Node 20.
    target: 'es2022',
    // For every runtime: nothing is resolved for Node or for the browser (the worker reaches
    // `node:worker_threads` through `process.getBuiltinModule`).
    platform: 'neutral',
    outfile: join(out, 'shared-worker.mjs'),
    logLevel: 'silent',
  });
}
