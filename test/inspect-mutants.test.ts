/**
 * The inspector (`waitsafe/inspect`) at its edges, where mutation testing found behaviour no other
 * test pinned down: creation sites from the stacks other engines capture (runtime frames, frames
 * in waitsafe's own directory, the working directory in POSIX and Windows form, no working
 * directory, an engine that captures nothing), stack lines that `parseFrames` must not misread,
 * the snapshot and diff tables' footers and columns, `diff()`'s check of its base, the monitor's
 * messages, default report and timer, and nested tracking sessions.
 *
 * Like inspect.test.ts, every test loads fresh copies of waitsafe and of the inspector, so that
 * totals can be checked exactly. An engine's stack is simulated by replacing
 * `Error.captureStackTrace` for the one constructor call, and a runtime's `process` by replacing
 * the global for one synchronous call.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Waitsafe from '../src/index.js';
import type * as Inspect from '../src/inspect/index.js';
import type * as Stacks from '../src/inspect/stacks.js';
import { afterGc } from './helpers.js';

let ws: typeof Waitsafe;
let inspect: typeof Inspect;
let stacks: typeof Stacks;
const stops: Array<() => void> = [];

/** True in a browser, which evaluates a module once, whatever `vi.resetModules()` says. */
const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** Forgets waitsafe's process-wide state (src/core/state.ts), so that fresh modules make a new one. */
function forgetState(): void {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('waitsafe.state.1')];
}

/** Loads fresh copies of waitsafe and of the inspector (a browser keeps the ones it has). */
async function load(): Promise<void> {
  forgetState();
  vi.resetModules();
  ws = await import('../src/index.js');
  inspect = await import('../src/inspect/index.js');
  stacks = await import('../src/inspect/stacks.js');
}

beforeEach(load);

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  // A browser gives the next test this same inspector: the primitives this test tracked must be
  // gone first. Nothing references them any more, so a full GC collects them.
  if (inBrowser) expect(await afterGc(() => inspect.snapshot().primitives === 0)).toBe(true);
});

/** `trackWaiters(options)`, stopped after the test. */
function track(options?: { stacks?: boolean }): () => void {
  const stop = inspect.trackWaiters(options);
  stops.push(stop);
  return stop;
}

/** Starts `n` waits that nobody will satisfy. */
function waitOn(event: Waitsafe.Event, n: number): void {
  for (let i = 0; i < n; i++) void event.wait();
}

/** Runs `fn` with the global `name` set to `value` (or absent, for `null`), then puts it back. */
function withGlobal<T>(name: string, value: unknown, fn: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(globalThis, name);
  if (value === null) Reflect.deleteProperty(globalThis, name);
  else Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    if (saved === undefined) Reflect.deleteProperty(globalThis, name);
    else Object.defineProperty(globalThis, name, saved);
  }
}

/**
 * Runs `fn` in an engine whose `Error.captureStackTrace` captures `stack` (nothing for `undefined`,
 * as an engine that cannot find the constructor), or that has none (`null`), then puts it back.
 */
function withCapturedStack<T>(stack: string | undefined | null, fn: () => T): T {
  const holder = Error as { captureStackTrace?: unknown };
  const saved = Object.getOwnPropertyDescriptor(Error, 'captureStackTrace');
  if (stack === null) delete holder.captureStackTrace;
  else {
    holder.captureStackTrace = (target: { stack?: string }) => {
      if (stack !== undefined) target.stack = stack;
    };
  }
  try {
    return fn();
  } finally {
    if (saved === undefined) delete holder.captureStackTrace;
    else Object.defineProperty(Error, 'captureStackTrace', saved);
  }
}

/** A runtime's `process` whose working directory is /proj. */
const inProj = { cwd: () => '/proj' };

/** The site recorded for an Event made where the captured stack is `stack`, in a runtime whose `process` is `process`. */
function siteFor(stack: string, process: unknown = inProj): string | undefined {
  track({ stacks: true });
  const name = `sited ${Math.random()}`;
  withGlobal('process', process, () => withCapturedStack(stack, () => new ws.Event({ name })));
  return inspect.snapshot().rows.find((row) => row.name === name)?.site;
}

/** A V8 stack with `frames` (locations) under its message. */
function v8(...frames: string[]): string {
  return ['Error', ...frames.map((frame) => `    at fn (${frame})`)].join('\n');
}

/** The working directory, where the runtime has one (not in a browser). */
const cwd = (globalThis as { process?: { cwd?: () => string } }).process?.cwd?.();

/**
 * This file as the inspector names it: a path relative to the cwd where there is one, else the
 * URL the browser loaded it from, without the dev server's query.
 */
const thisFile = ((): string => {
  const url = new URL(import.meta.url);
  if (url.protocol !== 'file:') return `${url.origin}${url.pathname}`;
  const path = decodeURIComponent(url.pathname);
  return cwd !== undefined && path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
})();

/** `src/`, where waitsafe's modules are when loaded unbundled, as the stack frames name it. */
const srcRoot = ((): string => {
  const url = new URL('../src', import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : `${url.origin}${url.pathname}`;
})();

/** The `path:line` of the `new Error().stack` taken on the line that created a primitive. */
function siteOf(stack: string | undefined): string {
  const line = /inspect-mutants\.test\.ts(?:\?[^:\s]*)?:(\d+):\d+/.exec(stack ?? '')?.[1];
  expect(line, 'a stack frame in this file').toBeDefined();
  return `${thisFile}:${line}`;
}

/** The cells of a table line: columns are separated by two spaces or more. */
function cellsOf(line: string | undefined): string[] {
  return (line ?? '').trim().split(/ {2,}/);
}

// ---------------------------------------------------------------------------------------------

describe('parseFrames reads only what is a frame', () => {
  it('skips a line that is neither `at location` nor `name@location`, whatever it holds', () => {
    expect(stacks.parseFrames('/app/no-at-sign.js:3:1\nfn@/app/a.js:4:1\nb@/app/b.js:5:2')).toEqual([
      { file: '/app/a.js', line: '4' },
      { file: '/app/b.js', line: '5' },
    ]);
  });

  it('skips a location that does not end in line:column', () => {
    expect(stacks.parseFrames('fn@/app/a.js:4:1junk\n    at fn (/app/b.js:5:2) x\nok@/app/c.js:6:3')).toEqual([
      { file: '/app/c.js', line: '6' },
    ]);
  });

  it('keeps a `?` in a file path that is not a URL, even with `://` later in it', () => {
    expect(stacks.parseFrames(v8('/srv/what?/http://x/a.js:3:1'))).toEqual([
      { file: '/srv/what?/http://x/a.js', line: '3' },
    ]);
  });

  it('reads a path that holds a line or paragraph separator whole, in both formats', () => {
    // A directory may be named so; V8 prints the path as it is.
    expect(stacks.parseFrames(v8('/srv/a\u2028b/c.js:3:1'))).toEqual([{ file: '/srv/a\u2028b/c.js', line: '3' }]);
    expect(stacks.parseFrames('fn@/srv/a\u2029b/c.js:4:1')).toEqual([{ file: '/srv/a\u2029b/c.js', line: '4' }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('creation sites from a captured stack', () => {
  it.each([
    ["Node's node: modules", 'node:internal/timers:594:17'],
    ["Node's internal/ modules", 'internal/process/task_queues.js:95:5'],
    ["Deno's ext: modules", 'ext:core/01_core.js:10:3'],
    ["Bun's native frames", 'native:7:39'],
  ])('skip the frames of %s', (_, runtimeFrame) => {
    expect(siteFor(v8(runtimeFrame, '/elsewhere/app.js:3:1'))).toBe('/elsewhere/app.js:3');
  });

  it('keep a frame that only mentions a runtime prefix later in its path', () => {
    expect(siteFor(v8('/srv/node:internal/ext:native/app.js:3:1', '/elsewhere/b.js:4:1'))).toBe(
      '/srv/node:internal/ext:native/app.js:3',
    );
  });

  it("skip frames in waitsafe's own directory (loaded unbundled)", () => {
    expect(siteFor(v8(`${srcRoot}/core/primitive.ts:130:5`, '/elsewhere/app.js:3:1'))).toBe('/elsewhere/app.js:3');
  });

  it('are relative to the working directory, in POSIX or Windows form; a file outside it keeps its path', () => {
    expect(siteFor(v8('/proj/src/app.js:3:1'))).toBe('src/app.js:3');
    expect(siteFor(v8('/project2/app.js:3:1'))).toBe('/project2/app.js:3');
    expect(siteFor(v8('/elsewhere/app.js:3:1'))).toBe('/elsewhere/app.js:3');
    const windows = { cwd: () => 'C:\\proj' };
    expect(siteFor(v8('C:\\proj\\src\\app.js:3:1'), windows)).toBe('src\\app.js:3');
    expect(siteFor(v8('C:\\proj2\\app.js:3:1'), windows)).toBe('C:\\proj2\\app.js:3');
  });

  it('keep their path where the runtime has no process, or a process without cwd()', () => {
    expect(siteFor(v8('/proj/src/app.js:3:1'), null)).toBe('/proj/src/app.js:3');
    expect(siteFor(v8('/proj/src/app.js:3:1'), {})).toBe('/proj/src/app.js:3');
    // Not taken for a working directory named "undefined".
    expect(siteFor(v8('undefined/app.js:3:1'), null)).toBe('undefined/app.js:3');
  });

  it('come from the captured stack where the engine has Error.captureStackTrace', () => {
    // Not the frames of this file, which counting the constructor frames would find.
    expect(siteFor('poll@https://example.com/assets/app.js:42:17\n@https://example.com/main.js:3:1')).toBe(
      'https://example.com/assets/app.js:42',
    );
  });

  it('are counted off a plain stack where Error.captureStackTrace captures nothing', () => {
    track({ stacks: true });
    const [event, stack] = withCapturedStack(undefined, () => [new ws.Event({ name: 'counted' }), new Error().stack]);
    expect(event).toBeInstanceOf(ws.Event);
    expect(inspect.snapshot().rows.find((row) => row.name === 'counted')?.site).toBe(siteOf(stack));
  });

  it('count the constructors of a new.target whose prototype chain ends in null (Reflect.construct)', () => {
    track({ stacks: true });
    function Target(): void {}
    Target.prototype = ws.Event.prototype;
    Object.setPrototypeOf(Target, null);
    const [event, stack] = withCapturedStack(null, () => [Reflect.construct(ws.Event, [], Target), new Error().stack]);
    expect(event).toBeInstanceOf(ws.Event);
    const [only] = inspect.snapshot().rows;
    expect(only?.kind).toBe('Event');
    // One constructor is counted for Target where Event runs two; the other is waitsafe's own.
    expect(only?.site).toBe(siteOf(stack));
  });

  it('are not recorded, and the inspector loads, with Error.stackTraceLimit = 0 (then it skips no frame as its own)', async () => {
    const errors = Error as { stackTraceLimit?: number | undefined };
    const limit = errors.stackTraceLimit;
    errors.stackTraceLimit = 0;
    try {
      // Bun's Error.captureStackTrace (what siteOf uses where it exists) captures frames
      // whatever the limit: there the site is recorded.
      const probe: { stack?: string } = {};
      (Error as { captureStackTrace?: (target: object) => void }).captureStackTrace?.(probe);
      const stack = probe.stack ?? new Error().stack ?? '';
      const framesNow = stack.split('\n').filter((line) => /:\d+:\d+\)?$/.test(line)).length;
      await load();
      track({ stacks: true });
      new ws.Event({ name: 'no stack' });
      expect(inspect.snapshot().rows).toEqual([
        {
          kind: 'Event',
          name: 'no stack',
          site: framesNow === 0 ? undefined : expect.stringMatching(/inspect-mutants\.test\.ts:\d+$/),
          primitives: 1,
          waiters: 0,
        },
      ]);
    } finally {
      errors.stackTraceLimit = limit;
    }
    // Its own directory unknown (as in a bundle), it skips no frame as its own: not one whose
    // path starts with "undefined".
    expect(siteFor(v8('undefined/app.js:3:1'))).toBe('undefined/app.js:3');
  });
});

// ---------------------------------------------------------------------------------------------

describe('tracking sessions', () => {
  it('stopping a session without stacks keeps recording sites for one with stacks', () => {
    track({ stacks: true });
    track()();
    const [, stack] = [new ws.Event({ name: 'still sited' }), new Error().stack];
    expect(inspect.snapshot().rows[0]?.site).toBe(siteOf(stack));
  });
});

// ---------------------------------------------------------------------------------------------

describe('snapshot', () => {
  it('keeps unnamed primitives and primitives named "" in separate rows', () => {
    track();
    waitOn(new ws.Event(), 2);
    waitOn(new ws.Event({ name: '' }), 1);
    expect(inspect.snapshot().rows).toEqual([
      { kind: 'Event', name: undefined, site: undefined, primitives: 1, waiters: 2 },
      { kind: 'Event', name: '', site: undefined, primitives: 1, waiters: 1 },
    ]);
  });

  it('prints - for the shares when there are no waiters, and totals in its footer', () => {
    track();
    new ws.Event({ name: 'idle' });
    new ws.Event({ name: 'idle' });
    const lines = String(inspect.snapshot()).split('\n');
    expect(cellsOf(lines[1])).toEqual(['1', '2', '0', '-', '-', 'Event "idle"']);
    expect(lines[2]).toBe('total: 2 primitives, 0 waiters');
    expect(lines).toHaveLength(3);
  });

  it('totals primitives and waiters in its footer, with thousands separators', () => {
    track();
    waitOn(new ws.Event({ name: 'big', maxWaiters: 0 }), 1200);
    waitOn(new ws.Event({ name: 'small' }), 5);
    new ws.Event();
    expect(String(inspect.snapshot()).split('\n').at(-1)).toBe('total: 3 primitives, 1,205 waiters');
  });

  it('right-aligns the index column once it has two digits', () => {
    track();
    for (let i = 0; i < 10; i++) waitOn(new ws.Event({ name: `e${i}` }), 20 - i);
    const lines = String(inspect.snapshot()).split('\n');
    expect(lines[0]?.startsWith(' #  primitives')).toBe(true);
    expect(lines[1]?.startsWith(' 1  ')).toBe(true);
    expect(lines[10]?.startsWith('10  ')).toBe(true);
    expect(lines.map((line) => line.indexOf('Event'))).toEqual([-1, ...Array(10).fill(lines[1]?.indexOf('Event')), -1]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('WaiterSnapshot.diff', () => {
  const message = 'The "base" argument must be a WaiterSnapshot';

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['a function with snapshot fields', Object.assign(() => {}, { takenAt: 0, rows: [] })],
    ['a string takenAt', { takenAt: '0', rows: [] }],
    ['rows that are not an array', { takenAt: 0, rows: {} }],
    ['a null row', { takenAt: 0, rows: [null] }],
    ['a number row', { takenAt: 0, rows: [1] }],
  ])('rejects %s as its base with a TypeError', (_, base) => {
    expect(() => inspect.snapshot().diff(base as never)).toThrow(new TypeError(message));
  });

  it('takes a snapshot passed through JSON (as from another copy of waitsafe/inspect) as its base', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    waitOn(event, 1);
    const base = JSON.parse(JSON.stringify(inspect.snapshot())) as Inspect.WaiterSnapshot;
    waitOn(event, 2);
    expect(inspect.snapshot().diff(base).rows).toEqual([
      { kind: 'Event', name: 'leak', site: undefined, primitives: 1, waiters: 3, primitivesDelta: 0, waitersDelta: 2 },
    ]);
  });

  it('among rows whose waiters did not change, lists the one that gained primitives before one that lost some', async () => {
    track();
    const kept = new ws.Event({ name: 'lost one' });
    waitOn(kept, 5);
    const ref = new WeakRef(new ws.Event({ name: 'lost one' }));
    const base = inspect.snapshot();
    const gained = new ws.Event({ name: 'gained one' });
    expect(await afterGc(() => ref.deref() === undefined)).toBe(true);
    expect(
      inspect
        .snapshot()
        .diff(base)
        .rows.map((row) => [row.name, row.primitivesDelta, row.waitersDelta]),
    ).toEqual([
      ['gained one', 1, 0],
      ['lost one', -1, 0],
    ]);
    // Used after the collection, so it stays reachable (JavaScriptCore collects an unused local).
    expect([kept.waiterCount, gained.waiterCount]).toEqual([5, 0]);
  });

  it('toString ends with the totals, their changes and the time between the snapshots', () => {
    vi.useFakeTimers();
    vi.advanceTimersByTime(1000);
    track();
    const grows = new ws.Event({ name: 'grows' });
    waitOn(grows, 2);
    waitOn(new ws.Event({ name: 'big', maxWaiters: 0 }), 1200);
    const base = inspect.snapshot();
    vi.advanceTimersByTime(2500);
    waitOn(new ws.Event({ name: 'grows' }), 3);
    const lines = String(inspect.snapshot().diff(base)).split('\n');
    expect(lines.at(-1)).toBe('total: 3 primitives (+1), 1,205 waiters (+3) over 2.5 s');
  });
});

// ---------------------------------------------------------------------------------------------

describe('WaiterMonitor', () => {
  it.each([
    [{ baseline: 'last' }, TypeError, `The "baseline" option must be 'first' or 'previous', got 'last'`],
    [{ baseline: null }, TypeError, `The "baseline" option must be 'first' or 'previous', got object`],
    [{ baseline: 1 }, TypeError, `The "baseline" option must be 'first' or 'previous', got number`],
    [{ minGrowth: -1 }, RangeError, 'The "minGrowth" option must be >= 0, got -1'],
  ])('the constructor rejects %o with its message', (options, type, message) => {
    expect(() => new inspect.WaiterMonitor({ interval: 1000, ...(options as object) })).toThrow(new type(message));
  });

  /** A monitor with a default report whose next tick() reports a one-row diff. */
  function reporting(): Inspect.WaiterMonitor {
    vi.useFakeTimers();
    track();
    const monitor = new inspect.WaiterMonitor({ interval: 1000 });
    waitOn(new ws.Event({ name: 'leak' }), 2);
    vi.advanceTimersByTime(1000);
    return monitor;
  }

  it('the default report writes the table with process.stderr.write where there is one', () => {
    const monitor = reporting();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const write = vi.fn((_text: string) => true);
    const diff = withGlobal('process', { stderr: { write } }, () => monitor.tick());
    expect(write).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledWith(`waitsafe: waiters since baseline\n${String(diff)}\n`);
    expect(error).not.toHaveBeenCalled();
  });

  it.each([
    ['no process', null],
    ['a process without stderr', {}],
  ])('the default report writes with console.error where the runtime has %s', (_, process) => {
    const monitor = reporting();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const diff = withGlobal('process', process, () => monitor.tick());
    expect(error).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith(`waitsafe: waiters since baseline\n${String(diff)}\n`);
  });

  it('start() unrefs a timer that can be, takes one that cannot, and stop() clears it', () => {
    const unref = vi.fn();
    const timers: unknown[] = [{ unref }, 7];
    const setInterval = vi.fn(() => timers.shift());
    const clearInterval = vi.fn();
    vi.stubGlobal('setInterval', setInterval);
    vi.stubGlobal('clearInterval', clearInterval);
    const monitor = new inspect.WaiterMonitor({ interval: 1000 });
    monitor.stop();
    expect(clearInterval).not.toHaveBeenCalled();
    monitor.start();
    expect(setInterval).toHaveBeenCalledTimes(1);
    expect(unref).toHaveBeenCalledTimes(1);
    monitor.stop();
    expect(clearInterval).toHaveBeenCalledTimes(1);
    // A browser's timer is a number, which has no unref().
    monitor.start();
    monitor.stop();
    expect(clearInterval.mock.calls).toEqual([[{ unref }], [7]]);
  });
});
