/**
 * Leases: what `RedisLock.acquire()` and `RedisSemaphore.acquire()` resolve with. A lease is
 * renewed in the background while it is held; its `signal` aborts when it is lost.
 *
 * @module
 */

import { now } from '../core/timers.js';
import { noop, startTimer, stopTimer } from './common.js';

/**
 * `Symbol.asyncDispose`, or, on runtimes that lack it, `Symbol.for('Symbol.asyncDispose')`: the
 * symbol TypeScript's downlevel helpers for `await using` look up. Globals are never patched.
 */
const asyncDisposeSymbol: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/**
 * The lease of a {@link RedisLock} or of permits of a {@link RedisSemaphore} was lost: it expired
 * before it could be renewed (the process was paused longer than the lease, Redis was
 * unreachable, the network was partitioned) or another holder has it now. `lease.signal` aborts
 * with it, and `lease.release()` then resolves `false`.
 *
 * @example
 * ```ts
 * const lock = new RedisLock(redis, 'jobs');
 * const lease = await lock.acquire();
 * lease.signal.addEventListener('abort', () => {
 *   if (lease.signal.reason instanceof LeaseLostError) console.log('stop writing: the lock is gone');
 * });
 * await lease.release();
 * ```
 */
export class LeaseLostError extends Error {
  constructor(message = 'The lease was lost') {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/**
 * A hold of a {@link RedisLock}, or of permits of a {@link RedisSemaphore}, for a limited time
 * that waitsafe renews in the background (every third of the lease) for as long as it is held.
 *
 * - `token` is a fencing token: strictly greater than the token of every earlier lease of the
 *   same name, across all processes. Pass it to the storage the lock guards, and have the
 *   storage reject a write that carries a lower token than one it has seen: a holder that was
 *   paused past its lease (and so lost it, unknowingly) is then stopped there.
 * - `signal` aborts with a {@link LeaseLostError} when the lease is lost (a renewal found it gone,
 *   or it ran out before a renewal could succeed). Pass it to the work done under the lock.
 * - `release()` gives it back and hands it to the next waiter (in any process). `await using`
 *   calls it at the end of the block.
 *
 * @example
 * ```ts
 * const lock = new RedisLock(redis, 'jobs');
 * await using lease = await lock.acquire({ timeout: 5_000 });
 * await work(lease.token, lease.signal);
 * ```
 */
export interface Lease extends AsyncDisposable {
  /**
   * The fencing token: strictly increasing per name, across all processes and leases.
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'invoices');
   * await using lease = await lock.acquire();
   * // The storage keeps the highest token it has seen and refuses lower ones, e.g. in SQL:
   * // UPDATE invoices SET total = $1, fence = $2 WHERE id = $3 AND fence < $2
   * await work(lease.token);
   * ```
   */
  readonly token: bigint;
  /**
   * Aborts with a {@link LeaseLostError} when the lease is lost; never aborts once released.
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'crawler');
   * await using lease = await lock.acquire();
   * await fetch(url, { signal: lease.signal }); // stops if the lock is lost meanwhile
   * ```
   */
  readonly signal: AbortSignal;
  /**
   * Releases the lease and hands it to the next waiter. Resolves `true` if it was still held,
   * `false` if it had already been lost (then `signal` has aborted). Acts on the first call only:
   * later calls send nothing and resolve `false`. Rejects with the client's error if Redis could
   * not be reached (the lease then expires on its own).
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'jobs');
   * const lease = await lock.acquire();
   * try {
   *   await work();
   * } finally {
   *   if (!(await lease.release())) console.log('the lease was lost before the end');
   * }
   * ```
   */
  release(): Promise<boolean>;
}

/** What a lease needs of its primitive. */
export interface LeaseHost {
  /** `Kind "name"`, for messages. */
  readonly label: string;
  /** RENEW: resolves `true` if still held. */
  renew(id: string, lease: number): Promise<boolean>;
  /** LEAVE: resolves `true` if it was still held. */
  leave(id: string): Promise<boolean>;
  /** The lease ended (released or lost), for the primitive's count of holds. */
  ended(): void;
}

const HELD = 0;
const LOST = 1;
const RELEASED = 2;

/** A lease held by this process. */
export class RedisLease implements Lease {
  declare readonly token: bigint;
  declare readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #host: LeaseHost;
  readonly #id: string;
  /** The lease duration, ms. */
  readonly #lease: number;
  /** When it expires, on `performance.now()`'s clock, unless renewed. */
  #deadline: number;
  #state = HELD;
  #renewing = false;
  #timer: unknown = undefined;

  /**
   * @param deadline When it expires unless renewed (`performance.now()` clock).
   * @param renewSoon Renew by the next macrotask: it was handed over with a short first lease.
   *   Not synchronously, so that the grant is not held up by sending it; a hold shorter than
   *   that never sends it.
   */
  constructor(host: LeaseHost, id: string, token: bigint, lease: number, deadline: number, renewSoon: boolean) {
    this.token = token;
    this.signal = this.#controller.signal;
    this.#host = host;
    this.#id = id;
    this.#lease = lease;
    this.#deadline = deadline;
    this.#schedule(renewSoon ? 0 : Math.min(lease / 3, deadline - now()));
  }

  release(): Promise<boolean> {
    const state = this.#state;
    if (state === RELEASED) return Promise.resolve(false);
    this.#state = RELEASED;
    this.#stop();
    let leaving: Promise<boolean>;
    try {
      leaving = this.#host.leave(this.#id);
    } catch (error) {
      leaving = Promise.reject(error);
    }
    if (state === LOST)
      return leaving.then(
        () => false,
        () => false,
      );
    this.#host.ended();
    return leaving.then((held) => {
      if (!held) this.#controller.abort(this.#lostError());
      return held;
    });
  }

  async [asyncDisposeSymbol](): Promise<void> {
    await this.release();
  }

  /** `'Lease'`. */
  get [Symbol.toStringTag](): string {
    return 'Lease';
  }

  #lostError(): LeaseLostError {
    return new LeaseLostError(`${this.#host.label}: the lease with token ${this.token} was lost`);
  }

  /** Renewals never keep a process alive by themselves. */
  #schedule(ms: number): void {
    this.#timer = startTimer(() => this.#tick(), Math.max(ms, 1));
  }

  #stop(): void {
    stopTimer(this.#timer);
    this.#timer = undefined;
  }

  /** Renews (unless a renewal is in flight), and comes back in a third of the lease or at the deadline. */
  #tick(): void {
    this.#timer = undefined;
    // Stryker disable next-line ConditionalExpression: release() and #lose() clear the one pending timer when the state leaves HELD, so a tick never runs in another state
    if (this.#state !== HELD) return;
    const sentAt = now();
    if (sentAt >= this.#deadline) {
      // It ran out before a renewal succeeded: lost. Let the next waiter have it at once, if
      // Redis still has it.
      this.#lose();
      this.#host.leave(this.#id).catch(noop);
      return;
    }
    if (!this.#renewing) {
      this.#renewing = true;
      let renewing: Promise<boolean>;
      try {
        renewing = this.#host.renew(this.#id, this.#lease);
      } catch (error) {
        renewing = Promise.reject(error);
      }
      renewing.then(
        (held) => {
          this.#renewing = false;
          if (this.#state !== HELD) return;
          if (!held) {
            this.#lose();
            return;
          }
          this.#deadline = sentAt + this.#lease;
          this.#stop();
          this.#schedule(this.#lease / 3);
        },
        () => {
          // Try again at the next tick, until the deadline.
          this.#renewing = false;
        },
      );
    }
    this.#schedule(Math.min(this.#lease / 3, this.#deadline - sentAt));
  }

  #lose(): void {
    this.#state = LOST;
    this.#stop();
    this.#host.ended();
    this.#controller.abort(this.#lostError());
  }
}
