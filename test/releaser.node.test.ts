/**
 * `using` on releasers as TypeScript compiles it for Node 20 (which has no native `using`, so
 * TypeScript's downlevel helpers do the disposing), run in a child process of the runtime under
 * test. Node-only APIs (child processes, the file system); `releaser.test.ts` has the rest.
 */

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileForNode20, root, runtimeArgs } from './compile.js';

/** A program that uses `using` on Lock and Semaphore releasers and logs what it sees. */
const USING_FIXTURE = `
import { BoundedSemaphore, Lock } from './src/index.js';

const log: string[] = [];
const lock = new Lock({ name: 'fixture' });

async function critical(fail: boolean): Promise<void> {
  using release = await lock.acquire();
  log.push(\`inside: \${lock}\`);
  if (fail) throw new Error('boom');
}

await critical(false);
log.push(\`after block: \${lock}\`);
try {
  await critical(true);
} catch (error) {
  log.push(\`caught: \${(error as Error).message}\`);
}
log.push(\`after throw: \${lock}\`);

// With a waiter, the end of the block hands the lock over.
let waiter: Promise<() => void> | undefined;
{
  using release = await lock.acquire();
  waiter = lock.acquire();
  log.push(\`before block end: \${lock}\`);
}
log.push(\`after block end: \${lock}\`);
(await waiter)();
log.push(\`after waiter: \${lock}\`);

// A releaser called by hand inside the block is not released again at block end.
{
  using release = await lock.acquire();
  release();
  lock.tryAcquire();
  log.push(\`someone else holds: \${lock}\`);
}
log.push(\`after early release: \${lock}\`);
lock.release();

// Permits too, also on throw.
const slots = new BoundedSemaphore(2, { name: 'slots' });
try {
  using first = await slots.acquire();
  using second = await slots.acquire();
  log.push(\`both taken: \${slots}\`);
  throw new Error('slot failure');
} catch (error) {
  log.push(\`caught: \${(error as Error).message}\`);
}
log.push(\`after permits: \${slots}\`);

console.log(JSON.stringify(log));
`;

/**
 * A program for a runtime without `Symbol.dispose` when waitsafe loads: a polyfill that installs
 * `Symbol.for('Symbol.dispose')` later must find waitsafe's releasers disposable.
 */
const FALLBACK_FIXTURE = `
import { Lock } from './src/index.js';

const log: string[] = [];
const symbols = Symbol as unknown as { dispose?: symbol };
log.push(\`Symbol.dispose after loading waitsafe: \${String(symbols.dispose)}\`);
symbols.dispose = Symbol.for('Symbol.dispose');

const lock = new Lock();
{
  using release = await lock.acquire();
  log.push(\`inside: \${lock}\`);
}
log.push(\`after block: \${lock}\`);
console.log(JSON.stringify(log));
`;

/**
 * Runs before everything else in the child: hides Node 20's `Symbol.dispose` (not configurable,
 * so not deletable) behind a Symbol whose `dispose` reads as undefined until something assigns it.
 */
const HIDE_DISPOSE_PRELOAD = `
const RealSymbol = Symbol;
let assigned;
// Node 20's Symbol.dispose is not configurable, so stand in for the whole Symbol. The target is
// an arrow function: it has no non-configurable properties for the traps to contradict.
globalThis.Symbol = new Proxy(() => {}, {
  apply: (_target, _this, args) => RealSymbol(...args),
  get(_target, key) {
    if (key === 'dispose') return assigned;
    if (key === 'asyncDispose') return undefined;
    return Reflect.get(RealSymbol, key);
  },
  set(_target, key, value) {
    if (key === 'dispose') {
      assigned = value;
      return true;
    }
    return Reflect.set(RealSymbol, key, value);
  },
});
`;

let dir = '';

function compileAndRun(fixture: string, nodeArgs: string[] = []): string[] {
  const file = join(dir, `fixture-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, fixture);
  compileForNode20(dir, [file]);
  const out = join(dir, 'out', `${file.slice(dir.length + 1, -3)}.js`);
  const stdout = execFileSync(process.execPath, runtimeArgs([...nodeArgs, out]), { cwd: dir, encoding: 'utf8' });
  return JSON.parse(stdout) as string[];
}

describe('using, as TypeScript compiles it for Node 20 (target es2022, module nodenext)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waitsafe-using-'));
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'hide-dispose.mjs'), HIDE_DISPOSE_PRELOAD);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases the lock and the permits at block end, also on throw, once, and hands over to a waiter', () => {
    expect(compileAndRun(USING_FIXTURE)).toEqual([
      'inside: Lock "fixture" [locked, waiters:0]',
      'after block: Lock "fixture" [unlocked, waiters:0]',
      'inside: Lock "fixture" [locked, waiters:0]',
      'caught: boom',
      'after throw: Lock "fixture" [unlocked, waiters:0]',
      'before block end: Lock "fixture" [locked, waiters:1]',
      'after block end: Lock "fixture" [locked, waiters:0]',
      'after waiter: Lock "fixture" [unlocked, waiters:0]',
      'someone else holds: Lock "fixture" [locked, waiters:0]',
      'after early release: Lock "fixture" [locked, waiters:0]',
      'both taken: BoundedSemaphore "slots" [value:0, waiters:0]',
      'caught: slot failure',
      'after permits: BoundedSemaphore "slots" [value:2, waiters:0]',
    ]);
  }, 30_000);

  it('works with a Symbol.dispose polyfill of Symbol.for("Symbol.dispose") installed after waitsafe loaded', () => {
    const hide = join(dir, 'hide-dispose.mjs');
    expect(compileAndRun(FALLBACK_FIXTURE, ['--import', hide])).toEqual([
      // waitsafe never patches globals.
      'Symbol.dispose after loading waitsafe: undefined',
      'inside: Lock [locked, waiters:0]',
      'after block: Lock [unlocked, waiters:0]',
    ]);
  }, 30_000);
});
