import { rejectInvalid, type WaitOptions } from '../core/options.js';
import type { RedisLike } from './adapters.js';
import { checkLease, checkName, checkOptions, checkRedis } from './common.js';
import type { Lease } from './lease.js';
import { RedisPermits } from './permits.js';
import type { RedisLockOptions } from './semaphore.js';

const KEYS: readonly string[] = ['lease', 'maxWaiters'];

/**
 * A mutual-exclusion lock in Redis, shared by every process that constructs one with the same
 * name on the same server: at most one {@link Lease} of it is held at a time, across all of them.
 *
 * Waiters are served in FIFO order across all processes. A release hands the lock to the next
 * waiter in the same Redis script and notifies it by pub/sub (no polling; a slow poll is only a
 * safety net). Holds are leases, renewed in the background while held; each comes with a fencing
 * token ({@link Lease.token}) and a signal that aborts if the lease is lost. If the holder's
 * process dies, its lease runs out; if a waiter's process dies, it leaves the queue within
 * seconds. Every wait takes `{ signal, timeout }`, and a wait that gives up leaves nothing behind,
 * here or in Redis.
 *
 * Its keys are `waitsafe:{name}:…` (one hash tag). Constructing a {@link RedisSemaphore} or a
 * {@link RedisEvent} with the same name is an error: the first operation that finds the other
 * kind in use rejects with a TypeError.
 *
 * @example
 * ```ts
 * import { nodeRedis, RedisLock } from 'waitsafe/redis';
 *
 * const lock = new RedisLock(nodeRedis(client), 'nightly-report', { lease: 10_000 });
 * await using lease = await lock.acquire({ timeout: 5_000 });
 * await work(lease.token, lease.signal); // the token fences writes; the signal aborts if the lock is lost
 * ```
 */
export class RedisLock extends RedisPermits {
  /**
   * @param redis The connection: {@link nodeRedis}`(client)` or {@link ioredis}`(client)`.
   * @param name The lock's name on the server: a non-empty string.
   * @param options `lease` and `maxWaiters` (see {@link RedisLockOptions}).
   * @throws {TypeError} If `redis` is not a RedisLike, `name` is not a non-empty string, an
   *   option has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `lease` is out of range, or `maxWaiters` is not an integer `>= 0` or
   *   `Infinity`.
   */
  constructor(redis: RedisLike, name: string, options?: RedisLockOptions) {
    const r = checkRedis(redis);
    const n = checkName(name);
    const o = checkOptions<RedisLockOptions>(options, KEYS);
    super(r, n, 'RedisLock', 1, checkLease(o.lease), o.maxWaiters);
  }

  /**
   * Takes the lock, waiting in FIFO order across all processes unless it is free and nobody
   * waits. Resolves with a {@link Lease}, renewed until it is released.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * sending nothing to Redis, if it is already aborted). With `timeout`, it rejects with a
   * `TimeoutError` DOMException after that many milliseconds; `timeout: 0` takes a free lock in
   * one round trip or rejects. Either way the local waiter is gone at once, and its entry leaves
   * the Redis queue in one script; a grant that raced the give-up is released to the next waiter
   * at once. Once the lease was handed over, a later abort changes nothing: release it.
   *
   * @param options `signal` and/or `timeout` (ms; `Infinity` or absent: no limit).
   * @returns A promise of the {@link Lease}. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has another
   *   key than `signal` and `timeout`, or one of them has the wrong type; or if the name is in use
   *   by another kind of primitive.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason` when the signal aborts; the client's error
   *   when Redis cannot be reached.
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'jobs');
   * const lease = await lock.acquire({ signal: request.signal, timeout: 5_000 });
   * try {
   *   await work(lease.token);
   * } finally {
   *   await lease.release();
   * }
   * ```
   */
  acquire(options?: WaitOptions): Promise<Lease> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.take(1, options);
  }

  /**
   * Takes the lock if it is free and nobody waits, in one round trip; never waits and never
   * barges ahead of a queued waiter (in any process).
   *
   * @returns A promise of the {@link Lease}, or of `undefined` if the lock is taken. It never
   *   throws synchronously.
   * @throws {TypeError} (as a rejection) If the name is in use by another kind of primitive.
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'cron:cleanup');
   * const lease = await lock.tryAcquire();
   * if (lease === undefined) console.log('another replica runs it');
   * else await lease.release();
   * ```
   */
  tryAcquire(): Promise<Lease | undefined> {
    return this.tryTake(1);
  }

  /** `'RedisLock'`. */
  get [Symbol.toStringTag](): string {
    return 'RedisLock';
  }

  protected describeState(): string {
    return this.held > 0 ? `held, waiters:${this.waiterCount}` : `waiters:${this.waiterCount}`;
  }
}
