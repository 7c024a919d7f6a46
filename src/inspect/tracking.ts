/**
 * Tracking: which primitives exist, weakly. The registry is process-wide (`core/state.ts`), so
 * one `trackWaiters()` sees the primitives of every copy of waitsafe in the process (its ESM and
 * CommonJS builds, bundled copies), and every copy's `snapshot()` sees the same ones.
 *
 * @module
 */

import { invalidKeys } from '../core/options.js';
import type { Primitive } from '../core/primitive.js';
import { type AnyClass, state } from '../core/state.js';
import { siteOf } from './stacks.js';

/** What is known of one tracked primitive. */
export interface Tracked {
  readonly ref: WeakRef<Primitive>;
  readonly kind: string;
  readonly name: string | undefined;
  readonly site: string | undefined;
}

/** The inspector's part of the process-wide state. */
interface Registry {
  readonly tracked: Set<Tracked>;
  readonly collected: FinalizationRegistry<Tracked>;
  /** `trackWaiters()` calls not stopped yet, and those of them with `stacks`. */
  sessions: number;
  stackSessions: number;
}

function makeRegistry(): Registry {
  const tracked = new Set<Tracked>();
  return {
    tracked,
    // Stryker disable next-line ArrowFunction: memory only: liveTracked() drops the entries of collected primitives too, so every snapshot is the same; this frees them without waiting for one
    collected: new FinalizationRegistry<Tracked>((entry) => tracked.delete(entry)),
    sessions: 0,
    stackSessions: 0,
  };
}

state.inspector ??= makeRegistry();
const registry = state.inspector as Registry;

/** Frames of the inspector between `siteOf` and the primitive's constructors: `track`. */
const TRACK_FRAMES = 1;

/** The site of the primitive tracked last: a primitive made by another (`owned`) shares it. */
let lastSite: string | undefined;

function track(primitive: Primitive, maker: AnyClass, owned: boolean): void {
  let site: string | undefined;
  if (registry.stackSessions > 0) {
    site = owned ? lastSite : siteOf(maker, TRACK_FRAMES);
    lastSite = site;
  }
  const entry: Tracked = {
    ref: new WeakRef(primitive),
    kind: primitive[Symbol.toStringTag],
    name: primitive.name,
    site,
  };
  registry.tracked.add(entry);
  registry.collected.register(primitive, entry);
}

/** The tracked primitives that are still alive, with their entries; drops collected ones. */
export function* liveTracked(): Generator<[Primitive, Tracked]> {
  for (const entry of registry.tracked) {
    const primitive = entry.ref.deref();
    if (primitive === undefined) registry.tracked.delete(entry);
    else yield [primitive, entry];
  }
}

/**
 * Starts tracking the primitives created from now on, weakly: a tracked primitive that becomes
 * garbage drops out of snapshots, and nothing is kept alive because it is tracked.
 *
 * @param options `stacks`: also record where each primitive was created (the line that called
 *   its constructor), so snapshot rows read like `Event "idReady"  at src/session.ts:42`. It
 *   costs a stack capture per construction.
 * @returns A function that stops tracking (primitives already tracked stay in snapshots). Calls
 *   nest: tracking stops when every `trackWaiters()` has been stopped.
 * @throws {TypeError} If `options` or `stacks` has the wrong type, or `options` has a key other
 *   than `stacks`.
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
  if (options !== undefined) {
    const error = invalidKeys(options, ['stacks']);
    if (error !== undefined) throw error;
  }
  const stacks = options?.stacks;
  if (stacks !== undefined && typeof stacks !== 'boolean') {
    throw new TypeError(`The "stacks" option must be a boolean, got ${typeof stacks}`);
  }
  registry.sessions++;
  if (stacks === true) registry.stackSessions++;
  state.track ??= track as (primitive: never, maker: AnyClass, owned: boolean) => void;
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    registry.sessions--;
    if (stacks === true) registry.stackSessions--;
    if (registry.sessions === 0) state.track = undefined;
  };
}
