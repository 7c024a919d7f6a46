/**
 * Snapshots of the tracked primitives' waiters, their diffs, and the tables they print as.
 *
 * @module
 */

import { liveTracked } from './tracking.js';

/**
 * One group of primitives in a snapshot: same kind, name and creation site.
 *
 * @example
 * ```ts
 * const stop = trackWaiters();
 * const idReady = new Event({ name: 'idReady' });
 * void idReady.wait();
 * snapshot().rows[0]; // { kind: 'Event', name: 'idReady', site: undefined, primitives: 1, waiters: 1 }
 * stop();
 * ```
 */
export interface SnapshotRow {
  /** The public class name: `Event`, `PriorityQueue`, `BoundedSemaphore`, ... */
  kind: string;
  /** Their `name`, or `undefined` for unnamed primitives. */
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
  /** The change in live primitives since the base snapshot. */
  primitivesDelta: number;
  /** The change in pending waits since the base snapshot: a leak keeps this growing. */
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
  /**
   * The change since `base` (an earlier snapshot, from any copy of `waitsafe/inspect`): growing
   * rows first, then unchanged, then shrinking ones.
   *
   * @throws {TypeError} If `base` is not a snapshot.
   *
   * @example
   * ```ts
   * const first = snapshot();
   * // ... later
   * for (const row of snapshot().diff(first).rows) {
   *   if (row.waitersDelta > 100) console.warn(`${row.kind} ${row.name}: +${row.waitersDelta} waiters`);
   * }
   * ```
   */
  diff(base: WaiterSnapshot): WaiterDiff;
  /** A fixed-width table, like a heap partition. */
  toString(): string;
}

function keyOf(row: SnapshotRow): string {
  // Stryker disable next-line StringLiteral,EqualityOperator: the `0`/`1` after the name already tells no name from any name (`!==` only swaps the two flags), and a site is never '' (always `path:line`), so no other placeholder makes two rows share a key; the mutant emptying the whole key is killed by every grouping test
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

/**
 * The cells of a table's rows: the index, the `counts` columns, the row's share of `total`
 * waiters and the cumulative share, then the kind/name/site label.
 */
function cells<R extends SnapshotRow>(rows: readonly R[], total: number, counts: (row: R) => string[]): string[][] {
  let cumulative = 0;
  return rows.map((row, i) => {
    cumulative += row.waiters;
    return [String(i + 1), ...counts(row), percent(row.waiters, total), percent(cumulative, total), labelOf(row)];
  });
}

/** A snapshot of this or of another copy of waitsafe/inspect. */
function isSnapshot(value: unknown): value is WaiterSnapshot {
  const base = value as WaiterSnapshot | null;
  return (
    typeof base === 'object' &&
    base !== null &&
    typeof base.takenAt === 'number' &&
    Array.isArray(base.rows) &&
    base.rows.every((row: unknown) => typeof row === 'object' && row !== null)
  );
}

class Snapshot implements WaiterSnapshot {
  constructor(
    readonly takenAt: number,
    readonly primitives: number,
    readonly waiters: number,
    readonly rows: readonly SnapshotRow[],
  ) {}

  diff(base: WaiterSnapshot): WaiterDiff {
    if (!isSnapshot(base)) throw new TypeError('The "base" argument must be a WaiterSnapshot');
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
    // A stable sort: rows with the same deltas keep this snapshot's order (most waiters first),
    // and the rows that are gone (no waiters) come after them.
    rows.sort((a, b) => b.waitersDelta - a.waitersDelta || b.primitivesDelta - a.primitivesDelta);
    return new Diff(rows, this, base);
  }

  toString(): string {
    return table(
      ['#', 'primitives', 'waiters', '%', 'cum %', 'kind/name/site'],
      cells(this.rows, this.waiters, (row) => [count(row.primitives), count(row.waiters)]),
      `total: ${count(this.primitives)} primitives, ${count(this.waiters)} waiters`,
    );
  }
}

/** A diff; the monitor makes filtered ones. */
export class Diff implements WaiterDiff {
  constructor(
    readonly rows: readonly DiffRow[],
    readonly now: WaiterSnapshot,
    readonly base: WaiterSnapshot,
  ) {}

  toString(): string {
    const total = this.now.waiters;
    const body = cells(this.rows, total, (row) => [
      count(row.primitives),
      signed(row.primitivesDelta),
      count(row.waiters),
      signed(row.waitersDelta),
    ]);
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
  for (const [primitive, entry] of liveTracked()) {
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
