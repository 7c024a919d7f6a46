/**
 * `waitsafe/shared`: the same waits across threads (worker_threads, Web Workers), over a
 * `SharedArrayBuffer`.
 *
 * - {@link SharedLock}, {@link SharedSemaphore} (weighted: {@link SharedWeightedWaitOptions}),
 *   {@link SharedEvent} and {@link SharedBarrier}: the methods and rules of their in-process
 *   twins, with a `handle` to pass to other threads and a static `from(handle)` to map it there
 *   ({@link SharedHandle}; options: {@link SharedOptions}, {@link SharedFromOptions}).
 * - Waiting never blocks a thread: at most one `Atomics.waitAsync` per thread and instance,
 *   ended as soon as the thread has no wait left, so none is left that nothing will notify.
 * - A thread that ends while holding or waiting never blocks the others: `recover(threadId)`
 *   (the dead thread's id: {@link threadId}, `worker.threadId` on Node) releases its holds and
 *   drops its waits.
 *
 * docs/threads.md says more: passing handles, recovery, browsers (cross-origin isolation).
 *
 * @example
 * ```ts
 * import { SharedLock } from 'waitsafe/shared';
 *
 * const lock = new SharedLock({ name: 'cache' });  // in one thread
 * worker.postMessage(lock.handle);                 // structured-cloneable
 * const same = SharedLock.from(handle);            // in another thread: the same lock
 * ```
 *
 * @module
 */

export { SharedBarrier } from './barrier.js';
export { SharedEvent } from './event.js';
export { SharedLock } from './lock.js';
export { type SharedHandle, threadId } from './memory.js';
export type { SharedFromOptions, SharedOptions } from './primitive.js';
export { SharedSemaphore, type SharedWeightedWaitOptions } from './semaphore.js';
