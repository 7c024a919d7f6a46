/**
 * One waitsafe state per process (the README's contract, "Details that are decided",
 * Packaging): when a process loads waitsafe twice — its ESM and its CommonJS build, or two
 * bundled copies — both copies share one listener per signal, one timer per duration, one
 * tracker and one default `maxWaiters`, and accept each other's primitives.
 *
 * Each case runs in a child Node process that loads two real copies: the package built with the
 * repository's tsc into a temporary `node_modules/waitsafe` (then `import` and `require` of it),
 * and two esbuild bundles of the sources.
 */

import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, runtimeArgs } from './compile.js';

let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waitsafe-packaging-'));
  // The package as npm would install it: package.json and both builds.
  const pkg = join(dir, 'node_modules', 'waitsafe');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  execFileSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist', 'esm')]);
  execFileSync(tsc, ['-p', join(root, 'tsconfig.cjs.json'), '--outDir', join(pkg, 'dist', 'cjs')]);
  writeFileSync(join(pkg, 'dist', 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
  // Two bundled copies, as two applications' bundles would each carry one.
  const entry = join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    `export * from ${JSON.stringify(join(root, 'src', 'index.ts'))};\n` +
      `export * as inspect from ${JSON.stringify(join(root, 'src', 'inspect', 'index.ts'))};\n`,
  );
  for (const copy of ['copy-a', 'copy-b']) {
    await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      outfile: join(dir, `${copy}.mjs`),
      logLevel: 'silent',
    });
  }
  writeFileSync(join(dir, 'checks.mjs'), CHECKS);
  writeFileSync(
    join(dir, 'builds.mjs'),
    `import { createRequire } from 'node:module';
import { run } from './checks.mjs';
const require = createRequire(import.meta.url);
const a = { ...(await import('waitsafe')), inspect: await import('waitsafe/inspect') };
const b = { ...require('waitsafe'), inspect: require('waitsafe/inspect') };
console.log(JSON.stringify(await run(a, b)));
`,
  );
  writeFileSync(
    join(dir, 'bundles.mjs'),
    `import { run } from './checks.mjs';
console.log(JSON.stringify(await run(await import('./copy-a.mjs'), await import('./copy-b.mjs'))));
`,
  );
}, 60_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/**
 * The checks, run with two copies `a` and `b` of the package (each `{ ...waitsafe, inspect }`).
 * Returns what they observed.
 */
const CHECKS = `
import { getEventListeners } from 'node:events';
const macrotask = () => new Promise((resolve) => setImmediate(resolve));
const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function run(a, b) {
  const out = { distinct: a.Event !== b.Event && a.Lock !== b.Lock };

  // One listener per signal, whichever copy waits on it.
  const controller = new AbortController();
  const ea = new a.Event();
  const eb = new b.Event();
  const waits = [ea.wait({ signal: controller.signal }), eb.wait({ signal: controller.signal })];
  out.listenersWhileWaiting = getEventListeners(controller.signal, 'abort').length;
  controller.abort(new Error('stop'));
  out.abortReasons = (await Promise.allSettled(waits)).map((r) => r.reason?.message);
  out.waitersAfterAbort = ea.waiterCount + eb.waiterCount;
  const idle = new AbortController();
  const idleWaits = [ea.wait({ signal: idle.signal }), eb.wait({ signal: idle.signal })];
  ea.set();
  eb.set();
  await Promise.all(idleWaits);
  await macrotask();
  out.listenersAfterMacrotask = getEventListeners(idle.signal, 'abort').length;

  // One timer for equal timeouts, whichever copy waits.
  const baseline = timeouts();
  const realSetTimeout = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = (...args) => {
    armed++;
    return realSetTimeout(...args);
  };
  const ta = new a.Event();
  const tb = new b.Event();
  const timed = [ta.wait({ timeout: 60_000 }), tb.wait({ timeout: 60_000 })];
  globalThis.setTimeout = realSetTimeout;
  out.timersArmed = armed;
  ta.set();
  tb.set();
  await Promise.all(timed);
  await macrotask();
  out.timersLeft = timeouts() - baseline;
  const expiring = await Promise.allSettled([new b.Event().wait({ timeout: 5 }), new a.Event().wait({ timeout: 5 })]);
  out.expired = expiring.map((r) => r.reason?.name);

  // One default maxWaiters.
  b.setDefaultMaxWaiters(7);
  out.defaultSeenByA = a.getDefaultMaxWaiters();
  a.setDefaultMaxWaiters(1000);
  out.defaultSeenByB = b.getDefaultMaxWaiters();

  // One tracker: a's trackWaiters sees b's primitives, and both snapshots agree.
  const stop = a.inspect.trackWaiters();
  const lock = new b.Lock({ name: 'from-b' });
  lock.tryAcquire();
  void lock.acquire();
  const event = new a.Event({ name: 'from-a' });
  void event.wait();
  const rows = (snap) => snap.rows.map((r) => r.kind + ' ' + r.name + ' ' + r.waiters).sort();
  out.rowsSeenByA = rows(a.inspect.snapshot());
  out.rowsSeenByB = rows(b.inspect.snapshot());
  out.diffAcrossCopies = b.inspect.snapshot().diff(a.inspect.snapshot()).rows.length;
  stop();

  // A Condition of one copy takes a Lock of the other.
  const condLock = new a.Lock();
  const cond = new b.Condition(condLock);
  const release = await cond.acquire();
  const waiting = cond.wait({ timeout: 5_000 });
  out.lockHeldByCondition = condLock.isLocked() === false;
  await cond.runExclusive(() => cond.notify()).catch(() => {});
  out.conditionWoke = await waiting;
  release();
  return out;
}
`;

/** Runs `node file` in the fixture directory and returns what it printed as JSON. */
function runChild(file: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      runtimeArgs([file]),
      { cwd: dir, encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${file} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

describe.each([
  ['the ESM and the CommonJS build', 'builds.mjs'],
  ['two bundled copies', 'bundles.mjs'],
])('one state per process: %s', (_, file) => {
  let out: Record<string, unknown> = {};
  beforeAll(async () => {
    out = await runChild(file);
  }, 30_000);

  it('are two copies (different classes)', () => {
    expect(out.distinct).toBe(true);
  });

  it('share one abort listener per signal, released by the next macrotask', () => {
    expect(out.listenersWhileWaiting).toBe(1);
    expect(out.abortReasons).toEqual(['stop', 'stop']);
    expect(out.waitersAfterAbort).toBe(0);
    expect(out.listenersAfterMacrotask).toBe(0);
  });

  it('share one timer for equal timeouts, cleared by the next macrotask, and both expire', () => {
    expect(out.timersArmed).toBe(1);
    expect(out.timersLeft).toBe(0);
    expect(out.expired).toEqual(['TimeoutError', 'TimeoutError']);
  });

  it('share one default maxWaiters', () => {
    expect(out.defaultSeenByA).toBe(7);
    expect(out.defaultSeenByB).toBe(1000);
  });

  it("share one tracker: either copy's snapshot lists both copies' primitives", () => {
    const expected = ['Event from-a 1', 'Lock from-b 1'];
    expect(out.rowsSeenByA).toEqual(expected);
    expect(out.rowsSeenByB).toEqual(expected);
    expect(out.diffAcrossCopies).toBe(2);
  });

  it("accept each other's primitives: a Condition takes the other copy's Lock", () => {
    expect(out.lockHeldByCondition).toBe(true);
    expect(out.conditionWoke).toBe(true);
  });
});
