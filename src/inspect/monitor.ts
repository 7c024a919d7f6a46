/**
 * The monitor: snapshots on an interval, reported as diffs against a baseline.
 *
 * @module
 */

import { invalidKeys } from '../core/options.js';
import { disposeSymbol } from '../core/releaser.js';
import { Diff, snapshot, type WaiterDiff, type WaiterSnapshot } from './snapshot.js';

/**
 * Options of a {@link WaiterMonitor}.
 *
 * @example
 * ```ts
 * new WaiterMonitor({ interval: 30_000, baseline: 'first', minGrowth: 50, report: (diff) => console.warn(String(diff)) });
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
 * const stopTracking = trackWaiters({ stacks: true });
 * const monitor = new WaiterMonitor({ interval: 60_000, minGrowth: 100 }).start();
 * // every minute, rows that grew by 100+ waiters since start-up go to stderr
 *
 * // at shutdown:
 * monitor.stop();
 * stopTracking();
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
   *   > 0, `minGrowth` a number >= 0, `baseline` `'first'` or `'previous'`, `report` a function),
   *   or an option it does not know (TypeError naming the key).
   */
  constructor(options: WaiterMonitorOptions) {
    const error = invalidKeys(options, ['interval', 'baseline', 'report', 'minGrowth']);
    if (error !== undefined) throw error;
    const { interval, baseline, report, minGrowth } = options;
    if (typeof interval !== 'number') throw new TypeError('The "interval" option must be a number of milliseconds');
    if (!(interval > 0) || interval === Number.POSITIVE_INFINITY) {
      throw new RangeError(`The "interval" option must be a finite number > 0, got ${interval}`);
    }
    if (baseline !== undefined && baseline !== 'first' && baseline !== 'previous') {
      const got = typeof baseline === 'string' ? `'${baseline}'` : typeof baseline;
      throw new TypeError(`The "baseline" option must be 'first' or 'previous', got ${got}`);
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
   * const monitor = new WaiterMonitor({ interval: 60_000 });
   * // called from a loop that runs every second, it reports at most once a minute:
   * monitor.tick(); // undefined
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
   * using monitor = new WaiterMonitor({ interval: 10_000 }).start(); // stopped at the end of the scope
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
