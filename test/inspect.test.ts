/**
 * The inspector (`waitsafe/inspect`, README: "Finding waiter leaks", and docs/diagnosing-leaks.md): tracking, snapshots, their
 * tables and diffs, and the WaiterMonitor.
 *
 * The tracked set lives in the inspector module, so every test loads fresh copies of waitsafe and
 * of the inspector (`vi.resetModules()`): primitives of one test never show up in another's
 * snapshots, and totals can be checked exactly. The monitor's default report on Node's stderr
 * and the monitor in a child process are in `inspect.node.test.ts`.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Waitsafe from '../src/index.js';
import type * as Inspect from '../src/inspect/index.js';
import { afterGc } from './helpers.js';

let ws: typeof Waitsafe;
let inspect: typeof Inspect;
const stops: Array<() => void> = [];

/** True in a browser, which evaluates a module once, whatever `vi.resetModules()` says. */
const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** Forgets waitsafe's process-wide state (src/core/state.ts), so that fresh modules make a new one. */
function forgetState(): void {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('waitsafe.state.1')];
}

beforeEach(async () => {
  forgetState();
  vi.resetModules();
  ws = await import('../src/index.js');
  inspect = await import('../src/inspect/index.js');
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  vi.useRealTimers();
  vi.restoreAllMocks();
  // A browser gives the next test this same inspector: the primitives this test tracked must be
  // gone first. Nothing references them any more, so a full GC collects them.
  if (inBrowser) expect(await nothingTracked()).toBe(true);
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

/** A snapshot row without a creation site. */
function row(kind: string, name: string | undefined, primitives: number, waiters: number): Inspect.SnapshotRow {
  return { kind, name, site: undefined, primitives, waiters };
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

/** The form of a site in this file: `test/inspect.test.ts:<line>`, or its URL in a browser. */
const SITE_IN_THIS_FILE =
  cwd !== undefined ? /^test\/inspect\.test\.ts:\d+$/ : /^https?:\/\/[^/]+\/(.+\/)?test\/inspect\.test\.ts:\d+$/;

/**
 * The `path:line` of the `new Error().stack` taken on the line that created a primitive. In a
 * browser the line is in the code as the dev server transformed it (stacks are not source-mapped
 * there), the same line as long as the constructor call and the `new Error()` stay on one line.
 */
function siteOf(stack: string | undefined): string {
  const line = /inspect\.test\.ts(?:\?[^:\s]*)?:(\d+):\d+/.exec(stack ?? '')?.[1];
  expect(line, 'a stack frame in this file').toBeDefined();
  return `${thisFile}:${line}`;
}

interface ParsedTable {
  headers: string[];
  /** The cells of each row: the number columns, then the kind/name/site label. */
  rows: string[][];
}

/**
 * Parses the first `rowCount` rows of a snapshot or diff table and checks that it is fixed-width:
 * every number column ends where its header ends (right-aligned) and every label starts where the
 * `kind/name/site` header starts.
 */
function parseTable(text: string, rowCount: number): ParsedTable {
  const lines = text.split('\n');
  const header = lines[0] as string;
  const labelStart = header.indexOf('kind/name/site');
  expect(labelStart).toBeGreaterThan(0);
  const edges = [...header.slice(0, labelStart).matchAll(/\S+(?: \S+)*/g)].map((m) => m.index + m[0].length);
  const rows = lines.slice(1, 1 + rowCount).map((line) => {
    const cells = [...line.slice(0, labelStart).matchAll(/\S+/g)];
    expect(
      cells.map((m) => m.index + m[0].length),
      `right edges of ${JSON.stringify(line)}`,
    ).toEqual(edges);
    expect(line[labelStart - 1], `label column of ${JSON.stringify(line)}`).toBe(' ');
    expect(line[labelStart], `label column of ${JSON.stringify(line)}`).not.toBe(' ');
    return [...cells.map((m) => m[0]), line.slice(labelStart)];
  });
  expect(rows).toHaveLength(rowCount);
  return { headers: [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m[0]), rows };
}

/** Whether the target of `ref` is collected within a few macrotasks and full GCs. */
function collected(ref: WeakRef<object>): Promise<boolean> {
  return afterGc(() => ref.deref() === undefined);
}

/** Whether every primitive the inspector tracked is collected within a few macrotasks and full GCs. */
function nothingTracked(): Promise<boolean> {
  return afterGc(() => inspect.snapshot().primitives === 0);
}

// ---------------------------------------------------------------------------------------------

describe('trackWaiters and snapshot', () => {
  it('without trackWaiters, constructing primitives registers nothing', () => {
    const event = new ws.Event({ name: 'untracked' });
    waitOn(event, 3);
    new ws.Condition();
    new ws.Queue({ name: 'q' });
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([]);
    expect(shot.primitives).toBe(0);
    expect(shot.waiters).toBe(0);
  });

  it('tracks only the primitives created after trackWaiters()', () => {
    const before = new ws.Event({ name: 'before' });
    waitOn(before, 2);
    track();
    const after = new ws.Event({ name: 'after' });
    waitOn(after, 1);
    waitOn(before, 1);
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([row('Event', 'after', 1, 1)]);
    expect(shot.primitives).toBe(1);
    expect(shot.waiters).toBe(1);
  });

  it('groups primitives by kind and name, sums their waiters, and totals primitives and waiters', () => {
    track();
    const a1 = new ws.Event({ name: 'a' });
    const a2 = new ws.Event({ name: 'a' });
    new ws.Event({ name: 'a' });
    waitOn(a1, 3);
    waitOn(a2, 4);
    waitOn(new ws.Event({ name: 'b' }), 5);
    waitOn(new ws.Event(), 1);
    waitOn(new ws.Event(), 1);
    const lock = new ws.Lock({ name: 'a' });
    void lock.acquire();
    void lock.acquire();
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([
      row('Event', 'a', 3, 7),
      row('Event', 'b', 1, 5),
      row('Event', undefined, 2, 2),
      row('Lock', 'a', 1, 1),
    ]);
    expect(shot.primitives).toBe(7);
    expect(shot.waiters).toBe(15);
  });

  it('sorts rows by waiters, most first, whatever the creation order or primitive count', () => {
    track();
    for (let i = 0; i < 5; i++) waitOn(new ws.Event({ name: 'many primitives' }), i === 0 ? 1 : 0);
    new ws.Event({ name: 'idle' });
    waitOn(new ws.Event({ name: 'three' }), 3);
    waitOn(new ws.Event({ name: 'two' }), 2);
    waitOn(new ws.Event({ name: 'nine' }), 9);
    const rows = inspect.snapshot().rows;
    expect(rows.map((r) => r.name)).toEqual(['nine', 'three', 'two', 'many primitives', 'idle']);
    expect(rows.map((r) => r.waiters)).toEqual([9, 3, 2, 1, 0]);
  });

  it('names the kind by the public class name of every primitive', () => {
    track();
    new ws.Event({ name: 'event' });
    new ws.Lock({ name: 'lock' });
    new ws.Semaphore(1, { name: 'semaphore' });
    new ws.BoundedSemaphore(1, { name: 'bounded' });
    new ws.Condition(new ws.Lock({ name: 'condition lock' }), { name: 'condition' });
    new ws.Barrier(2, { name: 'barrier' });
    new ws.Queue({ name: 'queue' });
    new ws.LifoQueue({ name: 'lifo' });
    new ws.PriorityQueue({ name: 'priority' });
    const kinds = inspect
      .snapshot()
      .rows.map((r) => `${r.kind} ${r.name}`)
      .sort();
    expect(kinds).toEqual([
      'Barrier barrier',
      'BoundedSemaphore bounded',
      'Condition condition',
      'Event event',
      'LifoQueue lifo',
      'Lock condition lock',
      'Lock lock',
      'PriorityQueue priority',
      'Queue queue',
      'Semaphore semaphore',
    ]);
  });

  it("tracks a Condition's own Lock under the Condition's name, with the waiters queued for the lock", async () => {
    track();
    const cond = new ws.Condition(undefined, { name: 'state' });
    await cond.acquire();
    void cond.wait();
    await cond.acquire();
    void cond.acquire();
    void cond.acquire();
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([row('Lock', 'state', 1, 2), row('Condition', 'state', 1, 1)]);
    expect(shot.primitives).toBe(2);
    expect(shot.waiters).toBe(3);
  });

  it('tracks no extra Lock for a Condition given a lock', () => {
    track();
    new ws.Condition(new ws.Lock({ name: 'shared' }), { name: 'cv' });
    expect(inspect.snapshot().rows).toEqual([row('Condition', 'cv', 1, 0), row('Lock', 'shared', 1, 0)]);
  });

  it('registers nothing for a constructor call that throws on a bad argument', () => {
    track();
    expect(() => new ws.Semaphore(-1)).toThrow(RangeError);
    expect(() => new ws.Barrier(0)).toThrow(RangeError);
    expect(() => new ws.Queue({ maxSize: -1 })).toThrow(RangeError);
    expect(() => new ws.PriorityQueue({ compare: 'desc' as never })).toThrow(TypeError);
    expect(() => new ws.Event({ name: 1 as never })).toThrow(TypeError);
    expect(() => new ws.Lock({ maxWaiters: -1 })).toThrow(RangeError);
    expect(() => new ws.Condition(undefined, { name: 1 as never })).toThrow(TypeError);
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([]);
    expect(shot.primitives).toBe(0);
  });

  it('registers nothing for a Condition given something that is not a Lock, and snapshot() keeps working', () => {
    track();
    waitOn(new ws.Event({ name: 'kept' }), 1);
    expect(() => new ws.Condition('not a lock' as never, { name: 'bad' })).toThrow(TypeError);
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([row('Event', 'kept', 1, 1)]);
    expect(shot.primitives).toBe(1);
  });

  it('a snapshot keeps the counts of its moment; later waits show in the next one', () => {
    track();
    const event = new ws.Event({ name: 'e' });
    waitOn(event, 1);
    const first = inspect.snapshot();
    waitOn(event, 2);
    new ws.Event({ name: 'later' });
    expect(first.rows).toEqual([row('Event', 'e', 1, 1)]);
    expect(first.waiters).toBe(1);
    expect(inspect.snapshot().rows).toEqual([row('Event', 'e', 1, 3), row('Event', 'later', 1, 0)]);
  });

  it('takenAt is performance.now() at the time of the snapshot', () => {
    const before = performance.now();
    const real = inspect.snapshot().takenAt;
    expect(real).toBeGreaterThanOrEqual(before);
    expect(real).toBeLessThanOrEqual(performance.now());

    vi.useFakeTimers();
    const start = performance.now();
    vi.advanceTimersByTime(1234);
    expect(inspect.snapshot().takenAt).toBe(start + 1234);
  });

  it('the stop function stops tracking new primitives but keeps tracked ones, with live counts', () => {
    const stop = track();
    const kept = new ws.Event({ name: 'kept' });
    waitOn(kept, 1);
    stop();
    waitOn(new ws.Event({ name: 'created after stop' }), 4);
    waitOn(kept, 2);
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([row('Event', 'kept', 1, 3)]);
    expect(shot.primitives).toBe(1);
    expect(shot.waiters).toBe(3);
  });

  it('nested trackWaiters calls track until every one is stopped, and each stop acts once', () => {
    const outer = track();
    const inner = track();
    new ws.Event({ name: 'both' });
    inner();
    inner();
    new ws.Event({ name: 'outer only' });
    outer();
    new ws.Event({ name: 'none' });
    expect(inspect.snapshot().rows.map((r) => r.name)).toEqual(['both', 'outer only']);
  });

  it('tracks again after a new trackWaiters() once every earlier one was stopped', () => {
    track()();
    new ws.Event({ name: 'between' });
    track();
    new ws.Event({ name: 'again' });
    expect(inspect.snapshot().rows.map((r) => r.name)).toEqual(['again']);
  });

  it.each([
    ['null', null],
    ['a string', 'stacks'],
    ['a number', 1],
    ['a string stacks option', { stacks: 'yes' }],
    ['a number stacks option', { stacks: 1 }],
    ['a null stacks option', { stacks: null }],
  ])('trackWaiters throws a TypeError for %s and starts no tracking', (_, options) => {
    expect(() => inspect.trackWaiters(options as never)).toThrow(TypeError);
    new ws.Event({ name: 'not tracked' });
    expect(inspect.snapshot().rows).toEqual([]);
  });

  it('trackWaiters accepts no options, {} and boolean or undefined stacks', () => {
    for (const options of [undefined, {}, { stacks: undefined }, { stacks: false }, { stacks: true }]) {
      track(options as { stacks?: boolean });
    }
    new ws.Event({ name: 'tracked' });
    expect(inspect.snapshot().primitives).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('creation sites (stacks: true)', () => {
  it('records the first stack frame outside waitsafe as path:line relative to the cwd', () => {
    track({ stacks: true });
    const [event, stack] = [new ws.Event({ name: 'sited' }), new Error().stack];
    waitOn(event, 1);
    const [only] = inspect.snapshot().rows;
    expect(only?.site).toBe(siteOf(stack));
    expect(only?.site).toMatch(SITE_IN_THIS_FILE);
  });

  it("gives a Condition's own Lock the line that created the Condition", () => {
    track({ stacks: true });
    const [, stack] = [new ws.Condition(undefined, { name: 'cv' }), new Error().stack];
    const rows = inspect.snapshot().rows;
    expect(rows.map((r) => [r.kind, r.site]).sort()).toEqual([
      ['Condition', siteOf(stack)],
      ['Lock', siteOf(stack)],
    ]);
  });

  it('groups by site: one line in a loop makes one row, another line another row', () => {
    track({ stacks: true });
    const stacks: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++) {
      const [event, stack] = [new ws.Event({ name: 'same' }), new Error().stack];
      waitOn(event, 1);
      stacks.push(stack);
    }
    const [, other] = [new ws.Event({ name: 'same' }), new Error().stack];
    const shot = inspect.snapshot();
    expect(shot.rows).toEqual([
      { kind: 'Event', name: 'same', site: siteOf(stacks[0]), primitives: 3, waiters: 3 },
      { kind: 'Event', name: 'same', site: siteOf(other), primitives: 1, waiters: 0 },
    ]);
    expect(siteOf(stacks[2])).toBe(siteOf(stacks[0]));
  });

  it('records no site without stacks, and sites only while a stacks session lasts', () => {
    track();
    new ws.Event({ name: 'plain' });
    const stopStacks = track({ stacks: true });
    const [, stack] = [new ws.Event({ name: 'with stacks' }), new Error().stack];
    stopStacks();
    new ws.Event({ name: 'plain again' });
    const sites = Object.fromEntries(inspect.snapshot().rows.map((r) => [r.name, r.site]));
    expect(sites).toEqual({ plain: undefined, 'with stacks': siteOf(stack), 'plain again': undefined });
  });
});

// ---------------------------------------------------------------------------------------------

describe('snapshot toString', () => {
  /** 1,200 + 300 + 0 waiters in three rows, with sites; returns the expected labels. */
  function partition(): string[] {
    track({ stacks: true });
    // Options with two properties would be printed over several lines by the browser's transform,
    // taking the constructor call and the stack to different lines: keep both on one.
    const bigOptions = { name: 'big', maxWaiters: 0 };
    const [big, bigStack] = [new ws.Event(bigOptions), new Error().stack];
    waitOn(big, 1200);
    let midStack: string | undefined;
    for (let i = 0; i < 3; i++) {
      const [mid, stack] = [new ws.Semaphore(0, { name: 'mid' }), new Error().stack];
      for (let j = 0; j < 100; j++) void mid.acquire();
      midStack = stack;
    }
    const [, queueStack] = [new ws.Queue(), new Error().stack];
    return [
      `Event "big"  at ${siteOf(bigStack)}`,
      `Semaphore "mid"  at ${siteOf(midStack)}`,
      `Queue  at ${siteOf(queueStack)}`,
    ];
  }

  it('is a table of index, primitives, waiters, % of all waiters, cumulative % and kind/name/site', () => {
    const labels = partition();
    const table = parseTable(String(inspect.snapshot()), 3);
    expect(table.headers).toEqual(['#', 'primitives', 'waiters', '%', 'cum %', 'kind/name/site']);
    expect(table.rows).toEqual([
      ['1', '1', '1,200', '80.0%', '80.0%', labels[0]],
      ['2', '3', '300', '20.0%', '100.0%', labels[1]],
      ['3', '1', '0', '0.0%', '100.0%', labels[2]],
    ]);
  });

  it('aligns its columns when the numbers differ in width', () => {
    partition();
    const lines = inspect.snapshot().toString().split('\n');
    const [header, big, mid, queue] = lines as [string, string, string, string];
    // Numbers are right-aligned under their header; labels start under "kind/name/site".
    const waitersEdge = header.indexOf('waiters') + 'waiters'.length;
    expect([big.indexOf('1,200') + 5, mid.indexOf(' 300 ') + 4, queue.indexOf(' 0 ') + 2]).toEqual([
      waitersEdge,
      waitersEdge,
      waitersEdge,
    ]);
    const labelStart = header.indexOf('kind/name/site');
    expect([big.indexOf('Event'), mid.indexOf('Semaphore'), queue.indexOf('Queue')]).toEqual([
      labelStart,
      labelStart,
      labelStart,
    ]);
    parseTable(lines.join('\n'), 3);
  });

  it('shows names without a site when tracked without stacks', () => {
    track();
    waitOn(new ws.Event({ name: 'ready' }), 2);
    const table = parseTable(String(inspect.snapshot()), 1);
    expect(table.rows).toEqual([['1', '1', '2', '100.0%', '100.0%', 'Event "ready"']]);
  });

  it('still has its header when nothing is tracked', () => {
    expect(
      String(inspect.snapshot())
        .split('\n')[0]
        ?.trim()
        .split(/\s{2,}/),
    ).toEqual(['#', 'primitives', 'waiters', '%', 'cum %', 'kind/name/site']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('WaiterSnapshot.diff', () => {
  it("gives each row's change in primitives and waiters since the base, new rows included", () => {
    track();
    const grows = new ws.Event({ name: 'grows' });
    waitOn(grows, 1);
    waitOn(new ws.Event({ name: 'same' }), 1);
    const base = inspect.snapshot();
    waitOn(grows, 2);
    waitOn(new ws.Event({ name: 'grows' }), 1);
    const fresh = new ws.Semaphore(0, { name: 'new' });
    void fresh.acquire();
    void fresh.acquire();
    expect(inspect.snapshot().diff(base).rows).toEqual([
      { ...row('Event', 'grows', 2, 4), primitivesDelta: 1, waitersDelta: 3 },
      { ...row('Semaphore', 'new', 1, 2), primitivesDelta: 1, waitersDelta: 2 },
      { ...row('Event', 'same', 1, 1), primitivesDelta: 0, waitersDelta: 0 },
    ]);
  });

  it('against a first baseline the deltas accumulate; against the previous snapshot they show the last step', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    const first = inspect.snapshot();
    waitOn(event, 2);
    const previous = inspect.snapshot();
    waitOn(event, 3);
    const now = inspect.snapshot();
    expect(now.diff(first).rows).toEqual([{ ...row('Event', 'leak', 1, 5), primitivesDelta: 0, waitersDelta: 5 }]);
    expect(now.diff(previous).rows).toEqual([{ ...row('Event', 'leak', 1, 5), primitivesDelta: 0, waitersDelta: 3 }]);
  });

  it('a row whose waiters dropped to zero shows a negative waiter delta', () => {
    track();
    const event = new ws.Event({ name: 'drains' });
    waitOn(event, 3);
    const base = inspect.snapshot();
    event.set();
    expect(inspect.snapshot().diff(base).rows).toEqual([
      { ...row('Event', 'drains', 1, 0), primitivesDelta: 0, waitersDelta: -3 },
    ]);
  });

  it('a row whose primitives were all collected shows 0 primitives, 0 waiters and negative deltas', async () => {
    track();
    const kept = new ws.Event({ name: 'kept' });
    waitOn(kept, 1);
    const ref = new WeakRef(
      (() => {
        const gone = new ws.Event({ name: 'gone' });
        waitOn(gone, 2);
        return gone;
      })(),
    );
    const base = inspect.snapshot();
    expect(base.rows).toEqual([row('Event', 'gone', 1, 2), row('Event', 'kept', 1, 1)]);
    expect(await collected(ref)).toBe(true);
    expect(inspect.snapshot().diff(base).rows).toEqual([
      { ...row('Event', 'kept', 1, 1), primitivesDelta: 0, waitersDelta: 0 },
      { ...row('Event', 'gone', 0, 0), primitivesDelta: -1, waitersDelta: -2 },
    ]);
    // Used after the collection, so it stays reachable (JavaScriptCore collects an unused local).
    expect(kept.waiterCount).toBe(1);
  });

  it('lists growing rows first (largest growth first), then unchanged, then shrinking ones', () => {
    track();
    const shrinkBy2 = new ws.Queue<number>({ name: 'shrink by 2' });
    for (let i = 0; i < 3; i++) void shrinkBy2.get();
    const growBy1 = new ws.Event({ name: 'grow by 1' });
    const same = new ws.Event({ name: 'same' });
    waitOn(same, 2);
    const growBy5 = new ws.Event({ name: 'grow by 5' });
    const shrinkBy4 = new ws.Event({ name: 'shrink by 4' });
    waitOn(shrinkBy4, 4);
    const base = inspect.snapshot();
    shrinkBy2.putNowait(1);
    shrinkBy2.putNowait(2);
    waitOn(growBy1, 1);
    waitOn(growBy5, 5);
    shrinkBy4.set();
    const rows = inspect.snapshot().diff(base).rows;
    expect(rows.slice(0, 3).map((r) => [r.name, r.waitersDelta])).toEqual([
      ['grow by 5', 5],
      ['grow by 1', 1],
      ['same', 0],
    ]);
    expect(new Set(rows.slice(3).map((r) => `${r.name} ${r.waitersDelta}`))).toEqual(
      new Set(['shrink by 2 -2', 'shrink by 4 -4']),
    );
  });

  it('toString shows a table with the primitive and waiter deltas', () => {
    track();
    const grows = new ws.Event({ name: 'grows' });
    waitOn(grows, 1);
    const drains = new ws.Event({ name: 'drains' });
    waitOn(drains, 3);
    const base = inspect.snapshot();
    waitOn(grows, 2);
    waitOn(new ws.Event({ name: 'grows' }), 1);
    drains.set();
    const table = parseTable(String(inspect.snapshot().diff(base)), 2);
    expect(table.headers).toEqual(['#', 'primitives', 'Δ', 'waiters', 'Δ', '%', 'cum %', 'kind/name/site']);
    expect(table.rows).toEqual([
      ['1', '2', '+1', '4', '+3', '100.0%', '100.0%', 'Event "grows"'],
      ['2', '1', '0', '0', '-3', '0.0%', '100.0%', 'Event "drains"'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('weak tracking', () => {
  it('a tracked primitive that becomes garbage, even with pending waits, leaves the snapshot after gc()', async () => {
    track({ stacks: true });
    const kept = new ws.Event({ name: 'kept' });
    waitOn(kept, 1);
    const ref = new WeakRef(
      (() => {
        const garbage = new ws.Event({ name: 'garbage' });
        waitOn(garbage, 2);
        return garbage;
      })(),
    );
    expect(inspect.snapshot().primitives).toBe(2);
    expect(await collected(ref)).toBe(true);
    const shot = inspect.snapshot();
    expect(shot.rows.map((r) => [r.name, r.primitives, r.waiters])).toEqual([['kept', 1, 1]]);
    expect(shot.primitives).toBe(1);
    expect(shot.waiters).toBe(1);
    // Used after the collection, so it stays reachable (JavaScriptCore collects an unused local).
    expect(kept.waiterCount).toBe(1);
  });

  it('tracking retains nothing: an unreferenced tracked Condition (and its own Lock) is collected', async () => {
    track({ stacks: true });
    const ref = new WeakRef(new ws.Condition(undefined, { name: 'dropped' }));
    const lockRef = new WeakRef(new ws.Lock({ name: 'dropped lock' }));
    expect(inspect.snapshot().primitives).toBe(3);
    expect(await collected(ref)).toBe(true);
    expect(await collected(lockRef)).toBe(true);
    expect(inspect.snapshot().primitives).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('WaiterMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  /** A report spy with the signature WaiterMonitor expects. */
  function reportSpy() {
    return vi.fn((_diff: Inspect.WaiterDiff, _now: Inspect.WaiterSnapshot) => {});
  }

  it.each([
    ['no options', undefined, TypeError],
    ['null options', null, TypeError],
    ['a number as options', 1000, TypeError],
    ['no interval', {}, TypeError],
    ['a string interval', { interval: '1000' }, TypeError],
    ['a null interval', { interval: null }, TypeError],
    ['a zero interval', { interval: 0 }, RangeError],
    ['a negative interval', { interval: -1 }, RangeError],
    ['a NaN interval', { interval: Number.NaN }, RangeError],
    ['an infinite interval', { interval: Number.POSITIVE_INFINITY }, RangeError],
    ['an unknown baseline', { interval: 1000, baseline: 'last' }, TypeError],
    ['a null baseline', { interval: 1000, baseline: null }, TypeError],
    ['a report that is not a function', { interval: 1000, report: 'stderr' }, TypeError],
    ['a null report', { interval: 1000, report: null }, TypeError],
    ['a string minGrowth', { interval: 1000, minGrowth: '1' }, TypeError],
    ['a null minGrowth', { interval: 1000, minGrowth: null }, TypeError],
    ['a negative minGrowth', { interval: 1000, minGrowth: -1 }, RangeError],
    ['a NaN minGrowth', { interval: 1000, minGrowth: Number.NaN }, RangeError],
  ])('the constructor rejects %s', (_, options, error) => {
    expect(() => new inspect.WaiterMonitor(options as never)).toThrow(error);
  });

  it('the constructor accepts every valid option', () => {
    const report = reportSpy();
    const monitors = [
      new inspect.WaiterMonitor({ interval: 0.5 }),
      new inspect.WaiterMonitor({ interval: 1000, baseline: 'first', report, minGrowth: 0 }),
      new inspect.WaiterMonitor({ interval: 1000, baseline: 'previous', minGrowth: 2.5 }),
      new inspect.WaiterMonitor({ interval: 1000, baseline: undefined, report: undefined, minGrowth: undefined }),
    ];
    expect(monitors.every((m) => m instanceof inspect.WaiterMonitor)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tick() returns undefined until the interval has elapsed, then reports the diff and returns it', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report });
    waitOn(event, 2);
    vi.advanceTimersByTime(999);
    expect(monitor.tick()).toBeUndefined();
    expect(report).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    const diff = monitor.tick();
    expect(diff?.rows).toEqual([{ ...row('Event', 'leak', 1, 2), primitivesDelta: 0, waitersDelta: 2 }]);
    expect(report).toHaveBeenCalledTimes(1);
    const [reported, now] = report.mock.calls[0] ?? [];
    expect(reported).toBe(diff);
    expect(now?.waiters).toBe(2);
    expect(now?.takenAt).toBe(performance.now());
    // The next interval counts from this report; a monitor that is only ticked has no timer.
    expect(monitor.tick()).toBeUndefined();
    vi.advanceTimersByTime(999);
    expect(monitor.tick()).toBeUndefined();
    expect(report).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("takes the 'first' baseline at construction, and its deltas accumulate (the default)", () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    waitOn(event, 2);
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report: reportSpy() });
    waitOn(event, 3);
    vi.advanceTimersByTime(5000);
    waitOn(new ws.Event({ name: 'leak' }), 1);
    expect(monitor.tick()?.rows).toEqual([{ ...row('Event', 'leak', 2, 6), primitivesDelta: 1, waitersDelta: 4 }]);
    waitOn(event, 1);
    vi.advanceTimersByTime(1000);
    expect(monitor.tick()?.rows).toEqual([{ ...row('Event', 'leak', 2, 7), primitivesDelta: 1, waitersDelta: 5 }]);
  });

  it("baseline 'previous' gives rolling deltas: each against the previous report", () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    waitOn(event, 2);
    const monitor = new inspect.WaiterMonitor({ interval: 1000, baseline: 'previous', report: reportSpy() });
    waitOn(event, 3);
    vi.advanceTimersByTime(1000);
    expect(monitor.tick()?.rows).toEqual([{ ...row('Event', 'leak', 1, 5), primitivesDelta: 0, waitersDelta: 3 }]);
    waitOn(event, 1);
    vi.advanceTimersByTime(1000);
    expect(monitor.tick()?.rows).toEqual([{ ...row('Event', 'leak', 1, 6), primitivesDelta: 0, waitersDelta: 1 }]);
    vi.advanceTimersByTime(1000);
    expect(monitor.tick()?.rows).toEqual([{ ...row('Event', 'leak', 1, 6), primitivesDelta: 0, waitersDelta: 0 }]);
  });

  it('tick() keeps only the rows that grew by at least minGrowth waiters', () => {
    track();
    const by5 = new ws.Event({ name: 'by 5' });
    const by3 = new ws.Event({ name: 'by 3' });
    const by2 = new ws.Event({ name: 'by 2' });
    new ws.Event({ name: 'same' });
    const shrinks = new ws.Event({ name: 'shrinks' });
    waitOn(shrinks, 1);
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, minGrowth: 3, report });
    waitOn(by5, 5);
    waitOn(by3, 3);
    waitOn(by2, 2);
    shrinks.set();
    vi.advanceTimersByTime(1000);
    const diff = monitor.tick();
    expect(diff?.rows.map((r) => [r.name, r.waitersDelta])).toEqual([
      ['by 5', 5],
      ['by 3', 3],
    ]);
    expect(report).toHaveBeenCalledWith(diff, expect.objectContaining({ waiters: 10 }));
  });

  it('tick() returns an empty diff and does not report when no row grew by minGrowth', () => {
    track();
    const event = new ws.Event({ name: 'slow' });
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, minGrowth: 10, report });
    waitOn(event, 2);
    vi.advanceTimersByTime(1000);
    const diff = monitor.tick();
    expect(diff).toBeDefined();
    expect(diff?.rows).toEqual([]);
    expect(report).not.toHaveBeenCalled();
  });

  it('tick() returns an empty diff and does not report when nothing is tracked', () => {
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report });
    vi.advanceTimersByTime(1000);
    expect(monitor.tick()?.rows).toEqual([]);
    expect(report).not.toHaveBeenCalled();
  });

  it('start() returns the monitor and reports first after one interval, then every interval', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report });
    expect(monitor.start()).toBe(monitor);
    waitOn(event, 1);
    vi.advanceTimersByTime(999);
    expect(report).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(report).toHaveBeenCalledTimes(1);
    waitOn(event, 1);
    vi.advanceTimersByTime(1000);
    waitOn(event, 1);
    vi.advanceTimersByTime(1000);
    expect(report.mock.calls.map(([diff]) => diff.rows.map((r) => r.waitersDelta))).toEqual([[1], [2], [3]]);
    monitor.stop();
  });

  it('start() on a started monitor keeps a single timer', () => {
    track();
    waitOn(new ws.Event({ name: 'leak' }), 1);
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report }).start();
    monitor.start();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3000);
    expect(report).toHaveBeenCalledTimes(3);
    monitor.stop();
  });

  it('stop() ends the reports and clears the timer, and may be called again or before start()', () => {
    track();
    waitOn(new ws.Event({ name: 'leak' }), 1);
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report });
    monitor.stop();
    monitor.start();
    vi.advanceTimersByTime(1000);
    expect(report).toHaveBeenCalledTimes(1);
    monitor.stop();
    monitor.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('[Symbol.dispose]() stops it like stop()', () => {
    track();
    waitOn(new ws.Event({ name: 'leak' }), 1);
    const report = reportSpy();
    const monitor = new inspect.WaiterMonitor({ interval: 1000, report }).start();
    vi.advanceTimersByTime(1000);
    monitor[Symbol.dispose]();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('the default report writes with console.error where process.stderr.write does not exist', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const monitor = new inspect.WaiterMonitor({ interval: 1000 });
    waitOn(event, 2);
    vi.advanceTimersByTime(1000);
    // A browser has no process.stderr; elsewhere take its write away for the test.
    const stderr = (globalThis as { process?: { stderr?: object } }).process?.stderr;
    const own = stderr === undefined ? undefined : Object.getOwnPropertyDescriptor(stderr, 'write');
    if (stderr !== undefined) {
      Object.defineProperty(stderr, 'write', { value: undefined, configurable: true, writable: true });
    }
    let diff: Inspect.WaiterDiff | undefined;
    try {
      diff = monitor.tick();
    } finally {
      if (stderr !== undefined) {
        if (own === undefined) Reflect.deleteProperty(stderr, 'write');
        else Object.defineProperty(stderr, 'write', own);
      }
    }
    if (stderr !== undefined) expect(typeof (stderr as { write?: unknown }).write).toBe('function');
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]?.[0])).toContain(String(diff));
  });
});
