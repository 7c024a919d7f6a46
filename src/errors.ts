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

/**
 * `getNowait()` found the queue empty.
 *
 * @example
 * ```ts
 * try {
 *   queue.getNowait();
 * } catch (error) {
 *   if (error instanceof QueueEmptyError) console.log('nothing yet');
 * }
 * ```
 */
export class QueueEmptyError extends Error {
  constructor(message = 'The queue is empty') {
    super(message);
    this.name = 'QueueEmptyError';
  }
}

/**
 * `putNowait()` found the queue full.
 *
 * @example
 * ```ts
 * try {
 *   queue.putNowait(job);
 * } catch (error) {
 *   if (error instanceof QueueFullError) console.log('try later');
 * }
 * ```
 */
export class QueueFullError extends Error {
  constructor(message = 'The queue is full') {
    super(message);
    this.name = 'QueueFullError';
  }
}

/**
 * The queue is shut down: puts are refused, and gets once it is empty.
 *
 * @example
 * ```ts
 * queue.shutdown();
 * await queue.put(job).catch((error) => error instanceof QueueShutDownError); // true
 * ```
 */
export class QueueShutDownError extends Error {
  constructor(message = 'The queue is shut down') {
    super(message);
    this.name = 'QueueShutDownError';
  }
}
