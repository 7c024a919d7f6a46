/**
 * Releasers: what `acquire()` resolves with. A releaser is a function that releases its hold
 * once (later calls do nothing) and a `Disposable`, so `using release = await lock.acquire()`
 * releases at the end of the block.
 *
 * @module
 */

/**
 * `Symbol.dispose`, or, on runtimes that lack it, `Symbol.for('Symbol.dispose')`: the symbol
 * TypeScript's downlevel helpers for `using` look up. Globals are never patched.
 */
export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * Releases one hold of a lock or one permit of a semaphore. Call it (or let `using` dispose it)
 * exactly when the hold ends; calls after the first do nothing.
 *
 * @example
 * ```ts
 * const release = await lock.acquire();
 * try {
 *   await work();
 * } finally {
 *   release();
 * }
 *
 * // The same with `using` (TypeScript 5.2+ or a runtime with explicit resource management):
 * {
 *   using release = await lock.acquire();
 *   await work();
 * } // released here
 * ```
 */
export type Releaser = (() => void) & Disposable;

/** What a releaser releases, once. */
export interface ReleaseTarget {
  /** Returns `weight` permits (and hands them on). */
  releasePermits(weight: number): void;
}

/** A releaser for one hold of `weight` permits of `owner`. */
export function makeReleaser(owner: ReleaseTarget, weight: number): Releaser {
  let held = true;
  const release = (() => {
    if (!held) return;
    held = false;
    owner.releasePermits(weight);
  }) as Releaser;
  release[disposeSymbol] = release;
  return release;
}
