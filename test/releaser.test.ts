/**
 * Releasers: once-only, Disposable, and `using` as TypeScript compiles it for Node 20 (which has
 * no native `using`, so TypeScript's downlevel helpers do the disposing).
 */

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, Lock, Semaphore } from '../src/index.js';
import { compileForNode20, root } from './compile.js';

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
  const stdout = execFileSync(process.execPath, [...nodeArgs, out], { cwd: dir, encoding: 'utf8' });
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

describe('Releaser', () => {
  it('is keyed by the runtime Symbol.dispose when it exists', async () => {
    const lock = new Lock();
    const release = await lock.acquire();
    expect(Object.getOwnPropertySymbols(release)).toContain(Symbol.dispose);
    release[Symbol.dispose]();
    expect(lock.isLocked()).toBe(false);
  });

  it.each([
    ['Lock', () => new Lock()],
    ['Semaphore', () => new Semaphore(1)],
    ['BoundedSemaphore', () => new BoundedSemaphore(1)],
  ])('a %s releaser acts on its first call only, whether called or disposed', async (_, make) => {
    const primitive = make();
    const release = await primitive.acquire();
    const next = primitive.acquire();
    release();
    const nextRelease = await next;
    expect(primitive.isLocked()).toBe(true);
    release[Symbol.dispose]();
    release();
    expect(primitive.isLocked()).toBe(true);
    nextRelease[Symbol.dispose]();
    expect(primitive.isLocked()).toBe(false);
    nextRelease();
    expect(primitive.isLocked()).toBe(false);
  });

  it('falls back to Symbol.for("Symbol.dispose") when the runtime has no Symbol.dispose, without patching globals', async () => {
    // Node 20's Symbol.dispose is not configurable, so hide it behind a stand-in Symbol while a
    // fresh copy of the module loads, then put the real Symbol back.
    const RealSymbol = Symbol;
    const withoutDispose = new Proxy(() => {}, {
      apply: (_target, _this, args: [string?]) => RealSymbol(...args),
      get: (_target, key) => (key === 'dispose' || key === 'asyncDispose' ? undefined : Reflect.get(RealSymbol, key)),
    });
    vi.resetModules();
    let fresh: typeof import('../src/index.js');
    vi.stubGlobal('Symbol', withoutDispose);
    try {
      fresh = await import('../src/index.js');
      expect((globalThis.Symbol as { dispose?: symbol }).dispose).toBeUndefined();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(globalThis.Symbol).toBe(RealSymbol);
    const fallback = RealSymbol.for('Symbol.dispose');
    const lock = new fresh.Lock();
    const release = await lock.acquire();
    const keys = Object.getOwnPropertySymbols(release);
    expect(keys).toContain(fallback);
    expect(keys).not.toContain(RealSymbol.dispose);
    (release as unknown as Record<symbol, () => void>)[fallback]?.();
    expect(lock.isLocked()).toBe(false);
    release();
    expect(lock.isLocked()).toBe(false);
  });
});
