/**
 * `waitsafe/redis`: the same waits across processes and machines, on one Redis primary (6.2 or
 * later). waitsafe depends on no Redis client: pass yours, wrapped by an adapter.
 *
 * - Primitives: {@link RedisLock}, {@link RedisSemaphore} (weighted: {@link RedisWeightedWaitOptions};
 *   options: {@link RedisLockOptions}) and {@link RedisEvent} ({@link RedisEventOptions}).
 * - Holds are {@link Lease}s: renewed in the background, with a fencing token and a signal that
 *   aborts with a {@link LeaseLostError} if the lease is lost.
 * - Adapters: {@link nodeRedis} for the `redis` package (v5+), {@link ioredis} for `ioredis`
 *   ({@link AdapterOptions}; the clients as typed: {@link NodeRedisClient},
 *   {@link NodeRedisSubscriber}, {@link IORedisClient}, {@link IORedisSubscriber}), or your own
 *   {@link RedisLike}.
 *
 * Every wait takes `{ signal, timeout }` and follows the rules of every waitsafe wait for its
 * local waiter; and a wait that gives up leaves nothing in Redis either (its queue entry goes in
 * the same script that grants the next waiter; a grant that raced it is released at once). Waiters
 * are served in FIFO order across all processes and woken by pub/sub at release, not by polling.
 * The README's API section and docs/distributed.md say more: leases, fencing tokens, crashes,
 * pauses and partitions.
 *
 * @example
 * ```ts
 * import { nodeRedis, RedisLock } from 'waitsafe/redis';
 *
 * // client: a connected `redis` client, from await createClient({ url }).connect()
 * const lock = new RedisLock(nodeRedis(client), 'invoices');
 * {
 *   await using lease = await lock.acquire({ timeout: 10_000 });
 *   await work(lease.token, lease.signal);
 * } // released here, and handed to the next waiter in whichever process
 * ```
 *
 * @module
 */

export type {
  AdapterOptions,
  IORedisClient,
  IORedisSubscriber,
  NodeRedisClient,
  NodeRedisSubscriber,
  RedisLike,
} from './adapters.js';
export { ioredis, nodeRedis } from './adapters.js';
export type { RedisEventOptions } from './event.js';
export { RedisEvent } from './event.js';
export type { Lease } from './lease.js';
export { LeaseLostError } from './lease.js';
export { RedisLock } from './lock.js';
export type { RedisLockOptions, RedisWeightedWaitOptions } from './semaphore.js';
export { RedisSemaphore } from './semaphore.js';
