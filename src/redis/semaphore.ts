import { badValue, checkInteger, rejectInvalid, type WaitOptions, WEIGHTED_KEYS } from '../core/options.js';
import type { RedisLike } from './adapters.js';
import { checkLease, checkName, checkOptions, checkRedis } from './common.js';
import type { Lease } from './lease.js';
import { RedisPermits } from './permits.js';

/**
 * The constructor options of {@link RedisLock} and {@link RedisSemaphore}.
 *
 * @example
 * ```ts
 * const options: RedisLockOptions = { lease: 10_000, maxWaiters: 5_000 };
 * const lock = new RedisLock(redis, 'jobs', options);
 * ```
 */
export interface RedisLockOptions {
  /**
   * How long (ms) a hold lasts without renewal: an integer from 100 to 2^31 - 1, default 30,000.
   * waitsafe renews it every third of that while it is held; if the holder's process dies, the
   * hold ends within this time. A process paused for longer loses it (see {@link Lease.signal}).
   */
  lease?: number | undefined;
  /**
   * Warn once when more waits than this are pending in this process (a likely waiter leak).
   * Default: `getDefaultMaxWaiters()` at the time of the check; `0` or `Infinity` disables.
   */
  maxWaiters?: number | undefined;
}

/**
 * The options of {@link RedisSemaphore.acquire}: the {@link WaitOptions} and the weight.
 *
 * @example
 * ```ts
 * const options: RedisWeightedWaitOptions = { weight: 2, timeout: 5_000 };
 * const lease = await new RedisSemaphore(redis, 'gpu', 4).acquire(options);
 * ```
 */
export interface RedisWeightedWaitOptions extends WaitOptions {
  /** Permits to take at once: an integer from 1 to the semaphore's permits (default 1). */
  weight?: number | undefined;
}

const KEYS: readonly string[] = ['lease', 'maxWaiters'];

/**
 * A counting semaphore in Redis, shared by every process that constructs one with the same name
 * and number of permits on the same server: at most `permits` permits are held at once, across
 * all of them.
 *
 * Waiters are served in FIFO order across all processes, weights included, without barging: a
 * waiter for 3 at the head blocks a later waiter for 1 even while 1 is free, and when the head
 * gives up, whoever now fits is granted in the same step. A release grants the next waiters in
 * the same Redis script and notifies them by pub/sub (no polling; a slow poll is only a safety
 * net). Holds are leases, renewed in the background; a waiter whose process dies leaves the queue
 * within seconds.
 *
 * Its keys are `waitsafe:{name}:…` (one hash tag). Constructing a {@link RedisLock} or a
 * {@link RedisEvent} with the same name is an error: the first operation that finds the other
 * kind in use rejects with a TypeError.
 *
 * @example
 * ```ts
 * import { nodeRedis, RedisSemaphore } from 'waitsafe/redis';
 *
 * const renders = new RedisSemaphore(nodeRedis(client), 'renders', 4);
 * async function render(job: string, signal: AbortSignal) {
 *   await using lease = await renders.acquire({ signal, timeout: 30_000 });
 *   return work(job, lease.signal);
 * }
 * ```
 */
export class RedisSemaphore extends RedisPermits {
  /**
   * @param redis The connection: {@link nodeRedis}`(client)` or {@link ioredis}`(client)`.
   * @param name The semaphore's name on the server: a non-empty string.
   * @param permits How many permits there are: an integer `>= 1`. Every process must use the same.
   * @param options `lease` and `maxWaiters` (see {@link RedisLockOptions}).
   * @throws {TypeError} If `redis` is not a RedisLike, `name` is not a non-empty string,
   *   `permits` or an option has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `permits` is not an integer `>= 1`, `lease` is out of range, or
   *   `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(redis: RedisLike, name: string, permits: number, options?: RedisLockOptions) {
    const r = checkRedis(redis);
    const n = checkName(name);
    const p = checkInteger(permits, 'The "permits" argument', 1);
    const o = checkOptions<RedisLockOptions>(options, KEYS);
    super(r, n, `RedisSemaphore/${p}`, p, checkLease(o.lease), o.maxWaiters);
  }

  /**
   * Takes `weight` permits (default 1), waiting in FIFO order across all processes unless they
   * are free and nobody waits. Resolves with a {@link Lease}, renewed until it is released.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * sending nothing to Redis, if it is already aborted). With `timeout`, it rejects with a
   * `TimeoutError` DOMException after that many milliseconds; `timeout: 0` takes free permits in
   * one round trip or rejects. Either way the local waiter is gone at once, and its entry leaves
   * the Redis queue in one script that also grants whoever now fits; a grant that raced the
   * give-up is released to the next waiter at once. Once the lease was handed over, a later
   * abort changes nothing: release it.
   *
   * @param options `signal`, `timeout` (ms; `Infinity` or absent: no limit) and `weight` (an
   *   integer from 1 to `permits`, default 1).
   * @returns A promise of the {@link Lease}. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has another
   *   key than `signal`, `timeout` and `weight`, or one of them has the wrong type; or if the name
   *   is in use by another kind of primitive.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, or `weight` is not an
   *   integer from 1 to `permits`.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason` when the signal aborts; the client's error
   *   when Redis cannot be reached.
   *
   * @example
   * ```ts
   * const gpus = new RedisSemaphore(redis, 'gpus', 8);
   * await using lease = await gpus.acquire({ weight: 2, timeout: 60_000 });
   * await work(lease.token);
   * ```
   */
  acquire(options?: RedisWeightedWaitOptions): Promise<Lease> {
    if (options === undefined) return this.take(1, undefined);
    const rejected = rejectInvalid(options, WEIGHTED_KEYS, (o: RedisWeightedWaitOptions) =>
      o.weight === undefined ? undefined : this.#weightError(o.weight, 'The "weight" option'),
    );
    if (rejected !== undefined) return rejected;
    return this.take(options.weight ?? 1, options);
  }

  /**
   * Takes `weight` permits (default 1) if they are free and nobody waits, in one round trip;
   * never waits and never barges ahead of a queued waiter (in any process).
   *
   * @returns A promise of the {@link Lease}, or of `undefined` if the permits are not free now.
   *   It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `weight` is not a number, or the name is in use by
   *   another kind of primitive.
   * @throws {RangeError} (as a rejection) If `weight` is not an integer from 1 to `permits`.
   *
   * @example
   * ```ts
   * const slots = new RedisSemaphore(redis, 'slots', 3);
   * const lease = await slots.tryAcquire(2);
   * if (lease) await lease.release();
   * ```
   */
  tryAcquire(weight?: number): Promise<Lease | undefined> {
    if (weight !== undefined) {
      const error = this.#weightError(weight, 'The "weight" argument');
      if (error !== undefined) return Promise.reject(error);
    }
    return this.tryTake(weight ?? 1);
  }

  #weightError(weight: unknown, what: string): Error | undefined {
    if (typeof weight !== 'number') return badValue(what, 'a number', weight);
    if (!Number.isInteger(weight) || weight < 1 || weight > this.permits) {
      return badValue(what, `an integer from 1 to ${this.permits}`, weight, true);
    }
    return undefined;
  }

  /** `'RedisSemaphore'`. */
  get [Symbol.toStringTag](): string {
    return 'RedisSemaphore';
  }

  protected describeState(): string {
    return `permits:${this.permits}, leases:${this.held}, waiters:${this.waiterCount}`;
  }
}
