/**
 * `waitsafe/inspect`: find waiter leaks in a running process, the way cumulative heap-snapshot
 * diffs find heap leaks.
 *
 * Call {@link trackWaiters} early; then take {@link snapshot}s and diff them against the first
 * one, or let a {@link WaiterMonitor} do that on an interval. Rows group primitives by kind, name
 * and (with `stacks`) the place that created them, so the row that keeps growing names the leak:
 *
 * ```text
 *    #  primitives  waiters       %    cum %  kind/name/site
 *    1       1,204    1,204   97.1%    97.1%  Event "idReady"  at src/session.ts:42
 * ```
 *
 * Tracking is weak: a primitive that becomes garbage drops out of snapshots. Without
 * `trackWaiters`, primitives pay nothing.
 *
 * @module
 */

import { isTracking, type Primitive, setTracker } from '../core/primitive.js';
import { disposeSymbol } from '../core/releaser.js';

// --- tracking --------------------------------------------------------------------------------

interface Tracked {
  readonly ref: WeakRef<Primitive>;
  readonly kind: string;
  readonly name: string | undefined;
  readonly site: string | undefined;
}

const tracked = new Set<Tracked>();
const collected = new FinalizationRegistry<Tracked>((entry) => tracked.delete(entry));
let sessions = 0;
let stackSessions = 0;

/**
 * The directory waitsafe's own modules live in (dist/esm, dist/cjs or src), from a stack. When
 * waitsafe is bundled into an application there is no such directory, and sites point into the
 * bundle (at the inspector's own code).
 */
const ownRoot: string | undefined = (() => {
  const frame = frames(new Error().stack)[0];
  if (frame === undefined) return undefined;
  const match = /^(.*)[/\\]inspect[/\\]index\.[cm]?[jt]s$/.exec(frame.file);
  return match?.[1];
})();

interface Frame {
  readonly file: string;
  readonly line: string;
}

/** The frames of a V8-style stack (`at fn (file:line:col)` or `at file:line:col`). */
function frames(stack: string | undefined): Frame[] {
  const out: Frame[] = [];
  if (stack === undefined) return out;
  for (const raw of stack.split('\n')) {
    const text = raw.trim();
    if (!text.startsWith('at ')) continue;
    // The location is inside the last parentheses, or the whole rest; paths may hold spaces.
    const location = text.endsWith(')') ? text.slice(text.lastIndexOf('(') + 1, -1) : text.slice(3);
    const match = /^(.*):(\d+):\d+$/.exec(location);
    if (match === null) continue;
    let file = match[1] as string;
    if (file.startsWith('file://')) {
      try {
        file = decodeURIComponent(new URL(file).pathname);
      } catch {
        // keep the URL as it is
      }
    }
    out.push({ file, line: match[2] as string });
  }
  return out;
}

/** Interned sites: a fresh flat string per distinct site, shared by every primitive made there. */
const sites = new Map<string, string>();

/** The first frame outside waitsafe and the runtime, as `path:line` relative to the cwd. */
function siteOf(stack: string | undefined): string | undefined {
  const cwd = (globalThis as { process?: { cwd?: () => string } }).process?.cwd?.();
  for (const frame of frames(stack)) {
    if (ownRoot !== undefined && frame.file.startsWith(ownRoot)) continue;
    if (frame.file.startsWith('node:') || frame.file.startsWith('internal/')) continue;
    let file = frame.file;
    if (cwd !== undefined && (file.startsWith(`${cwd}/`) || file.startsWith(`${cwd}\\`))) {
      file = file.slice(cwd.length + 1);
    }
    const site = `${file}:${frame.line}`;
    let interned = sites.get(site);
    if (interned === undefined) {
      // A copy, so that the site does not keep the whole stack text alive (V8 would keep a
      // string built from slices of it pointing into it).
      interned = JSON.parse(JSON.stringify(site)) as string;
      sites.set(interned, interned);
    }
    return interned;
  }
  return undefined;
}

function track(primitive: Primitive): void {
  const entry: Tracked = {
    ref: new WeakRef(primitive),
    kind: primitive[Symbol.toStringTag],
    name: primitive.name,
    site: stackSessions > 0 ? siteOf(new Error().stack) : undefined,
  };
  tracked.add(entry);
  collected.register(primitive, entry);
}

/**
 * Starts tracking the primitives created from now on, weakly: a tracked primitive that becomes
 * garbage drops out of snapshots, and nothing is kept alive because it is tracked.
 *
 * @param options `stacks`: also record where each primitive was created (the first stack frame
 *   outside waitsafe), so snapshot rows read like `Event "idReady"  at src/session.ts:42`. It
 *   costs a stack capture per construction.
 * @returns A function that stops tracking (primitives already tracked stay in snapshots). Calls
 *   nest: tracking stops when every `trackWaiters()` has been stopped.
 * @throws {TypeError} If `options` or `stacks` has the wrong type.
 *
 * @example
 * ```ts
 * import { snapshot, trackWaiters } from 'waitsafe/inspect';
 *
 * const stop = trackWaiters({ stacks: true });
 * // ... later
 * console.log(String(snapshot()));
 * stop();
 * ```
 */
export function trackWaiters(options?: { stacks?: boolean | undefined }): () => void {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('The "options" argument must be an object or undefined');
  }
  const stacks = options?.stacks;
  if (stacks !== undefined && typeof stacks !== 'boolean') {
    throw new TypeError(`The "stacks" option must be a boolean, got ${typeof stacks}`);
  }
  sessions++;
  if (stacks === true) stackSessions++;
  if (!isTracking()) setTracker(track);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    sessions--;
    if (stacks === true) stackSessions--;
    if (sessions === 0) setTracker(undefined);
  };
}

// --- snapshots -------------------------------------------------------------------------------

/**
 * One group of primitives in a snapshot: same kind, name and creation site.
 *
 * @example
 * ```ts
 * const [top] = snapshot().rows; // { kind: 'Event', name: 'idReady', site: 'src/session.ts:42', primitives: 1204, waiters: 1204 }
 * ```
 */
export interface SnapshotRow {
  /** The public class name: `Event`, `PriorityQueue`, `BoundedSemaphore`, ... */
  kind: string;
  name: string | undefined;
  /** Where they were created (with `stacks`), as `path:line`. */
  site: string | undefined;
  /** Live tracked primitives in the group. */
  primitives: number;
  /** Their pending waits, summed. */
  waiters: number;
}

/**
 * A {@link SnapshotRow} with the change since a base snapshot.
 *
 * @example
 * ```ts
 * const grew = snapshot().diff(first).rows.filter((row) => row.waitersDelta > 0);
 * ```
 */
export interface DiffRow extends SnapshotRow {
  primitivesDelta: number;
  waitersDelta: number;
}

/**
 * The change between two snapshots.
 *
 * @example
 * ```ts
 * console.log(String(snapshot().diff(first)));
 * ```
 */
export interface WaiterDiff {
  /** Growing rows first (largest waiter growth first), then unchanged, then shrinking ones. */
  readonly rows: readonly DiffRow[];
  /** A fixed-width table with the deltas. */
  toString(): string;
}

/**
 * The waiters of every tracked primitive at one moment, grouped.
 *
 * @example
 * ```ts
 * const now = snapshot();
 * console.log(`${now.waiters} waiters on ${now.primitives} primitives`);
 * ```
 */
export interface WaiterSnapshot {
  /** `performance.now()` when it was taken. */
  readonly takenAt: number;
  /** Live tracked primitives. */
  readonly primitives: number;
  /** Their pending waits. */
  readonly waiters: number;
  /** Grouped by kind, name and creation site; most waiters first. */
  readonly rows: readonly SnapshotRow[];
  /** The change since `base` (an earlier snapshot). */
  diff(base: WaiterSnapshot): WaiterDiff;
  /** A fixed-width table, like a heap partition. */
  toString(): string;
}

function keyOf(row: SnapshotRow): string {
  return `${row.kind}\u0000${row.name ?? ''}\u0000${row.name === undefined ? 0 : 1}\u0000${row.site ?? ''}`;
}

function labelOf(row: SnapshotRow): string {
  const name = row.name === undefined ? '' : ` ${JSON.stringify(row.name)}`;
  const site = row.site === undefined ? '' : `  at ${row.site}`;
  return `${row.kind}${name}${site}`;
}

const numbers = new Intl.NumberFormat('en-US');
function count(n: number): string {
  return numbers.format(n);
}
function signed(n: number): string {
  return n > 0 ? `+${count(n)}` : n < 0 ? `-${count(-n)}` : '0';
}
function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

function table(headers: string[], rows: string[][], footer: string): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line), footer].join('\n');
}

class Snapshot implements WaiterSnapshot {
  constructor(
    readonly takenAt: number,
    readonly primitives: number,
    readonly waiters: number,
    readonly rows: readonly SnapshotRow[],
  ) {}

  diff(base: WaiterSnapshot): WaiterDiff {
    if (!(base instanceof Snapshot)) throw new TypeError('The "base" argument must be a WaiterSnapshot');
    const before = new Map(base.rows.map((row) => [keyOf(row), row]));
    const rows: DiffRow[] = [];
    for (const row of this.rows) {
      const old = before.get(keyOf(row));
      before.delete(keyOf(row));
      rows.push({
        ...row,
        primitivesDelta: row.primitives - (old?.primitives ?? 0),
        waitersDelta: row.waiters - (old?.waiters ?? 0),
      });
    }
    for (const old of before.values()) {
      rows.push({ ...old, primitives: 0, waiters: 0, primitivesDelta: -old.primitives, waitersDelta: -old.waiters });
    }
    rows.sort(
      (a, b) => b.waitersDelta - a.waitersDelta || b.primitivesDelta - a.primitivesDelta || b.waiters - a.waiters,
    );
    return new Diff(rows, this, base);
  }

  toString(): string {
    let cumulative = 0;
    const body = this.rows.map((row, i) => {
      cumulative += row.waiters;
      return [
        String(i + 1),
        count(row.primitives),
        count(row.waiters),
        percent(row.waiters, this.waiters),
        percent(cumulative, this.waiters),
        labelOf(row),
      ];
    });
    return table(
      ['#', 'primitives', 'waiters', '%', 'cum %', 'kind/name/site'],
      body,
      `total: ${count(this.primitives)} primitives, ${count(this.waiters)} waiters`,
    );
  }
}

class Diff implements WaiterDiff {
  constructor(
    readonly rows: readonly DiffRow[],
    readonly now: WaiterSnapshot,
    readonly base: WaiterSnapshot,
  ) {}

  toString(): string {
    const total = this.now.waiters;
    let cumulative = 0;
    const body = this.rows.map((row, i) => {
      cumulative += row.waiters;
      return [
        String(i + 1),
        count(row.primitives),
        signed(row.primitivesDelta),
        count(row.waiters),
        signed(row.waitersDelta),
        percent(row.waiters, total),
        percent(cumulative, total),
        labelOf(row),
      ];
    });
    const seconds = ((this.now.takenAt - this.base.takenAt) / 1000).toFixed(1);
    return table(
      ['#', 'primitives', 'Δ', 'waiters', 'Δ', '%', 'cum %', 'kind/name/site'],
      body,
      `total: ${count(this.now.primitives)} primitives (${signed(this.now.primitives - this.base.primitives)}), ` +
        `${count(total)} waiters (${signed(total - this.base.waiters)}) over ${seconds} s`,
    );
  }
}

/**
 * The waiters of every tracked primitive now, grouped by kind, name and creation site, most
 * waiters first.
 *
 * @example
 * ```ts
 * const first = snapshot();
 * // ... later
 * console.log(String(snapshot().diff(first))); // what grew since the first snapshot
 * ```
 */
export function snapshot(): WaiterSnapshot {
  const groups = new Map<string, SnapshotRow>();
  let primitives = 0;
  let waiters = 0;
  for (const entry of tracked) {
    const primitive = entry.ref.deref();
    if (primitive === undefined) {
      tracked.delete(entry);
      continue;
    }
    const n = primitive.waiterCount;
    primitives++;
    waiters += n;
    const row: SnapshotRow = { kind: entry.kind, name: entry.name, site: entry.site, primitives: 0, waiters: 0 };
    const key = keyOf(row);
    const group = groups.get(key) ?? row;
    if (group === row) groups.set(key, row);
    group.primitives++;
    group.waiters += n;
  }
  const rows = [...groups.values()].sort(
    (a, b) => b.waiters - a.waiters || b.primitives - a.primitives || labelOf(a).localeCompare(labelOf(b)),
  );
  return new Snapshot(globalThis.performance.now(), primitives, waiters, rows);
}

// --- the monitor -----------------------------------------------------------------------------

/**
 * Options of a {@link WaiterMonitor}.
 *
 * @example
 * ```ts
 * new WaiterMonitor({ interval: 30_000, baseline: 'first', minGrowth: 50, report: (diff) => log(String(diff)) });
 * ```
 */
export interface WaiterMonitorOptions {
  /** Milliseconds between reports. */
  interval: number;
  /** `'first'` (default): deltas against the snapshot taken at construction (cumulative);
   * `'previous'`: against the previous report (rolling). */
  baseline?: 'first' | 'previous' | undefined;
  /** Called with each non-empty diff; default: writes the table to stderr. */
  report?: ((diff: WaiterDiff, now: WaiterSnapshot) => void) | undefined;
  /** Report only rows whose waiters grew by at least this many. */
  minGrowth?: number | undefined;
}

function defaultReport(diff: WaiterDiff): void {
  const text = `waitsafe: waiters since baseline\n${diff.toString()}\n`;
  const stderr = (globalThis as { process?: { stderr?: { write?: (s: string) => unknown } } }).process?.stderr;
  if (typeof stderr?.write === 'function') stderr.write(text);
  else console.error(text);
}

/**
 * Takes a snapshot every `interval` and reports what grew, against the first snapshot
 * (cumulative, the default) or the previous one (rolling). Cumulative deltas let a real leak
 * dwarf the churn of short-lived waits as time goes on; rolling ones stay noisy.
 *
 * @example
 * ```ts
 * import { trackWaiters, WaiterMonitor } from 'waitsafe/inspect';
 *
 * trackWaiters({ stacks: true });
 * const monitor = new WaiterMonitor({ interval: 60_000, minGrowth: 100 }).start();
 * // every minute, rows that grew by 100+ waiters since start-up go to stderr
 * ```
 */
export class WaiterMonitor implements Disposable {
  readonly #interval: number;
  readonly #rolling: boolean;
  readonly #report: (diff: WaiterDiff, now: WaiterSnapshot) => void;
  readonly #minGrowth: number | undefined;
  #base: WaiterSnapshot;
  #lastAt: number;
  #timer: unknown;

  /**
   * Takes the `'first'` baseline now.
   *
   * @throws {TypeError} / {RangeError} For a missing or bad option (`interval` must be a number
   *   > 0, `minGrowth` a number >= 0, `baseline` `'first'` or `'previous'`, `report` a function).
   */
  constructor(options: WaiterMonitorOptions) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('The "options" argument must be an object');
    const { interval, baseline, report, minGrowth } = options;
    if (typeof interval !== 'number') throw new TypeError('The "interval" option must be a number of milliseconds');
    if (!(interval > 0) || interval === Number.POSITIVE_INFINITY) {
      throw new RangeError(`The "interval" option must be a finite number > 0, got ${interval}`);
    }
    if (baseline !== undefined && baseline !== 'first' && baseline !== 'previous') {
      throw new TypeError(`The "baseline" option must be 'first' or 'previous', got ${String(baseline)}`);
    }
    if (report !== undefined && typeof report !== 'function')
      throw new TypeError('The "report" option must be a function');
    if (minGrowth !== undefined) {
      if (typeof minGrowth !== 'number') throw new TypeError('The "minGrowth" option must be a number');
      if (!(minGrowth >= 0)) throw new RangeError(`The "minGrowth" option must be >= 0, got ${minGrowth}`);
    }
    this.#interval = interval;
    this.#rolling = baseline === 'previous';
    this.#report = report ?? defaultReport;
    this.#minGrowth = minGrowth;
    this.#base = snapshot();
    this.#lastAt = this.#base.takenAt;
  }

  /**
   * For a control loop: if `interval` has elapsed since the last report (or construction),
   * takes a snapshot, reports the diff (unless it is empty) and returns it; otherwise returns
   * `undefined`.
   *
   * @example
   * ```ts
   * setInterval(() => monitor.tick(), 1_000); // reports at most once per interval
   * ```
   */
  tick(): WaiterDiff | undefined {
    if (globalThis.performance.now() - this.#lastAt < this.#interval) return undefined;
    return this.#run();
  }

  /**
   * Reports every `interval` from its own timer, which never keeps the process alive. The first
   * report comes after one interval.
   *
   * @example
   * ```ts
   * const monitor = new WaiterMonitor({ interval: 10_000 }).start();
   * ```
   */
  start(): this {
    if (this.#timer !== undefined) return this;
    const timer = setInterval(() => this.#run(), this.#interval) as unknown as { unref?: () => void };
    if (typeof timer.unref === 'function') timer.unref();
    this.#timer = timer;
    return this;
  }

  /**
   * Stops the timer of `start()`.
   *
   * @example
   * ```ts
   * monitor.stop();
   * ```
   */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer as ReturnType<typeof setInterval>);
    this.#timer = undefined;
  }

  /** Stops the monitor (`using monitor = new WaiterMonitor(...)`). */
  [disposeSymbol](): void {
    this.stop();
  }

  #run(): WaiterDiff {
    const now = snapshot();
    const full = now.diff(this.#base);
    const minGrowth = this.#minGrowth;
    const diff =
      minGrowth === undefined
        ? full
        : new Diff(
            full.rows.filter((row) => row.waitersDelta >= minGrowth),
            now,
            this.#base,
          );
    this.#lastAt = now.takenAt;
    if (this.#rolling) this.#base = now;
    if (diff.rows.length > 0) this.#report(diff, now);
    return diff;
  }
}
