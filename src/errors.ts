/**
 * The domain errors of waitsafe. Platform errors are used where the platform has them:
 * `signal.reason` for aborts, DOMException `TimeoutError` and `InvalidStateError`, `TypeError`
 * and `RangeError` for bad arguments.
 *
 * @module
 */

/**
 * A `Barrier` was reset or aborted while a party waited, or is broken (aborted and not reset
 * yet) when a party arrives.
 *
 * @example
 * ```ts
 * const barrier = new Barrier(2);
 * const waiting = barrier.wait();
 * barrier.abort();
 * await waiting.catch((error) => error instanceof BrokenBarrierError); // true
 * ```
 */
export class BrokenBarrierError extends Error {
  constructor(message = 'The barrier is broken') {
    super(message);
    this.name = 'BrokenBarrierError';
  }
}
