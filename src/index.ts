/**
 * waitsafe: asyncio-style synchronization primitives whose waits can be abandoned without
 * leaving anything behind.
 *
 * Every waiting method takes `{ signal, timeout }`; however a wait ends, its waiter is unlinked
 * at once and no timer or abort listener keeps it. The source is runtime-neutral: it runs
 * unchanged on Node, Deno, Bun and in browsers.
 *
 * - Waiting for a condition: {@link Event}.
 * - Limits and leak warnings: {@link setDefaultMaxWaiters}, {@link getDefaultMaxWaiters}.
 * - Options shared by every wait: {@link WaitOptions}.
 *
 * @example
 * ```ts
 * import { Event } from 'waitsafe';
 *
 * const ready = new Event();
 * await ready.wait({ timeout: 10_000 }); // no waiter, timer or listener is left if it gives up
 * ```
 *
 * @module
 */

export type { PrimitiveOptions, WaitOptions } from './core/options.js';
export { getDefaultMaxWaiters, setDefaultMaxWaiters } from './core/primitive.js';
export { Event } from './event.js';
