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

export { WaiterMonitor, type WaiterMonitorOptions } from './monitor.js';
export { type DiffRow, type SnapshotRow, snapshot, type WaiterDiff, type WaiterSnapshot } from './snapshot.js';
export { trackWaiters } from './tracking.js';
