/**
 * waitsafe: asyncio-style synchronization primitives whose waits can be abandoned without
 * leaving anything behind.
 *
 * Every waiting method takes `{ signal, timeout }`; however a wait ends, its waiter is unlinked
 * at once and no timer or abort listener keeps it. The source is runtime-neutral: it runs
 * unchanged on Node, Deno, Bun and in browsers.
 *
 * - Waiting for something to happen: {@link Event}, {@link Condition}, {@link Barrier}; for a
 *   one-shot value or error: {@link Future}.
 * - Mutual exclusion and limits: {@link Lock}, {@link Semaphore}, {@link BoundedSemaphore}
 *   (weighted: {@link WeightedWaitOptions}), {@link ReaderWriterLock}, and the {@link Releaser}
 *   their `acquire()` resolves with; named locks, the Web Locks API in process: {@link LockManager}
 *   ({@link LockRequestOptions}, {@link LockInfo}).
 * - Producers and consumers: {@link Queue}, {@link PriorityQueue}, {@link LifoQueue}.
 * - Errors: {@link BrokenBarrierError}, {@link QueueEmptyError}, {@link QueueFullError},
 *   {@link QueueShutDownError}; platform errors elsewhere (`signal.reason`, DOMException
 *   `TimeoutError` and `InvalidStateError`, `TypeError`, `RangeError`); {@link isTimeoutError}
 *   tells a timeout from other errors.
 * - Giving up on work: {@link timeout}, {@link timeoutAt}, {@link Deadline}, {@link sleep}, and
 *   {@link linkSignals} (the leak-free `AbortSignal.any`).
 * - Limits and leak warnings: {@link setDefaultMaxWaiters}, {@link getDefaultMaxWaiters}.
 * - Options shared by every wait: {@link WaitOptions}; by every primitive: {@link PrimitiveOptions}.
 *
 * @example
 * ```ts
 * import { Event, Lock } from 'waitsafe';
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 100);
 * await ready.wait({ timeout: 10_000 }); // true
 * // Had it given up, no waiter, timer or listener would be left behind.
 *
 * const lock = new Lock();
 * using release = await lock.acquire({ signal: AbortSignal.timeout(1_000) });
 * ```
 *
 * @module
 */

export { Barrier } from './barrier.js';
export { Condition } from './condition.js';
export type { PrimitiveOptions, WaitOptions } from './core/options.js';
export { getDefaultMaxWaiters, setDefaultMaxWaiters } from './core/primitive.js';
export type { Releaser } from './core/releaser.js';
export { BrokenBarrierError, QueueEmptyError, QueueFullError, QueueShutDownError } from './errors.js';
export { Event } from './event.js';
export { Future, isTimeoutError } from './future.js';
export { Lock } from './lock.js';
export type { LockInfo, LockRequestOptions } from './lock-manager.js';
export { LockManager } from './lock-manager.js';
export type { PriorityQueueOptions, QueueOptions } from './queue.js';
export { LifoQueue, PriorityQueue, Queue } from './queue.js';
export { ReaderWriterLock } from './reader-writer-lock.js';
export type { WeightedWaitOptions } from './semaphore.js';
export { BoundedSemaphore, Semaphore } from './semaphore.js';
export { Deadline, linkSignals, sleep, timeout, timeoutAt } from './timeouts.js';
