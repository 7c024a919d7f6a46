/**
 * The local side of `RedisLock` and `RedisSemaphore`: the waits of this process on weighted
 * permits whose state (holders, FIFO queue, fencing tokens) lives in Redis (`scripts.ts`).
 *
 * ## A wait, step by step
 *
 * 1. `acquire()` registers the wait in the engine's {@link WaiterQueue} (so its signal, timeout,
 *    `waiterCount` and leak warning work as for every wait) and sends ACQUIRE. If the permits
 *    are free and nobody waits, the reply is a fencing token: granted.
 * 2. Otherwise the wait is queued in Redis. The primitive joins this process's grant channel
 *    (one subscription per channel, shared, see `hub.ts`); if the subscription was not confirmed yet
 *    when ACQUIRE went out, a POLL after it catches a grant published in between.
 * 3. A release (LEAVE), in any process, grants the next waiters in the same script and publishes
 *    `"<id> <token>"`: the waiting process resolves the wait when the message arrives (hand-off).
 * 4. While it has queued waits, the process POLLs every {@link POLL_INTERVAL} ms: the heartbeat
 *    that keeps their entries alive, and the safety net for a lost message or a dead holder
 *    whose lease ran out. That is the only polling.
 *
 * A wait that gives up (abort, timeout) leaves the local queue at once, and LEAVE removes its
 * entry in Redis, or, if a grant raced the give-up, releases that grant to the next waiter. If
 * ACQUIRE is still in flight, LEAVE goes out when its reply arrives, so it always follows it.
 *
 * @module
 */

import { timeoutError } from '../core/dom-errors.js';
import type { WaitOptions } from '../core/options.js';
import { Primitive } from '../core/primitive.js';
import { now } from '../core/timers.js';
import { rejectWaiter, type Waiter } from '../core/waiter.js';
import { WaiterQueue, watch } from '../core/waiters.js';
import type { RedisLike } from './adapters.js';
import {
  evalScript,
  HEARTBEAT_TTL,
  keysOf,
  newId,
  noop,
  POLL_INTERVAL,
  PROCESS,
  startTimer,
  stopTimer,
} from './common.js';
import { type Channel, type ChannelListener, join, leave } from './hub.js';
import { type Lease, type LeaseHost, RedisLease } from './lease.js';
import { ACQUIRE, LEAVE, POLL, RENEW } from './scripts.js';

/** ACQUIRE is in flight. */
const SENDING = 0;
/** Queued in Redis, waiting for a grant. */
const QUEUED = 1;
/** Granted, given up or failed. */
const DONE = 2;

/** One wait of this process: the `data` of its waiter node. */
interface Pending {
  readonly id: string;
  readonly weight: number;
  node: Waiter<Lease>;
  state: typeof SENDING | typeof QUEUED | typeof DONE;
  /** The wait gave up: whatever ACQUIRE did must be undone (LEAVE) when its reply arrives. */
  cancelled: boolean;
}

/** The local queue: a wait that gives up is undone in Redis too. */
class PermitWaiters extends WaiterQueue<Lease> {
  declare readonly gaveUp: (pending: Pending) => void;

  constructor(owner: Primitive, gaveUp: (pending: Pending) => void) {
    super(owner, 'acquire');
    this.gaveUp = gaveUp;
  }

  override onCancel(node: Waiter<Lease>, reason: unknown): void {
    rejectWaiter(node, reason);
    this.gaveUp(node.data as Pending);
  }
}

/** Base class of RedisLock and RedisSemaphore. Not exported from the package. */
export abstract class RedisPermits extends Primitive {
  readonly #redis: RedisLike;
  readonly #keys: string[];
  /** ARGV[1..4] of every script: channel, kind, permits, heartbeat ttl. */
  readonly #args: string[];
  readonly #channelName: string;
  /** The permits. @internal */
  protected readonly permits: number;
  readonly #lease: number;
  readonly #waiters: PermitWaiters;
  /** Pending waits by id. */
  readonly #pending = new Map<string, Pending>();
  /** How many of them are queued in Redis. */
  #queued = 0;
  /** Leases this process holds. @internal */
  protected held = 0;
  #channel: Channel | undefined = undefined;
  readonly #listener: ChannelListener;
  readonly #host: LeaseHost;
  #timer: unknown = undefined;
  #polling = false;
  #pollAgain = false;

  constructor(redis: RedisLike, name: string, kind: string, permits: number, lease: number, maxWaiters: unknown) {
    // Stryker disable next-line ConditionalExpression: Primitive ignores an undefined maxWaiters, so { name, maxWaiters: undefined } is the same as { name }
    super(maxWaiters === undefined ? { name } : { name, maxWaiters: maxWaiters as number });
    this.#redis = redis;
    this.#keys = keysOf(name, ['kind', 'holders', 'queue', 'alive', 'info', 'token']);
    // Grants to this process's waiters are published on its own channel (see scripts.ts).
    this.#channelName = `waitsafe:{${name}}:grant:${PROCESS}`;
    this.#args = [`waitsafe:{${name}}:grant`, kind, String(permits), String(HEARTBEAT_TTL)];
    this.permits = permits;
    this.#lease = lease;
    this.#waiters = new PermitWaiters(this, (pending) => this.#gaveUp(pending));
    this.#listener = {
      onMessage: (message) => this.#onMessage(message),
      onError: (error) => this.#onChannelError(error),
    };
    this.#host = {
      label: this.label,
      renew: (id, ms) => this.#eval(RENEW, [id, String(ms)]).then((reply) => Number(reply[0]) === 1),
      leave: (id) => this.#eval(LEAVE, [id]).then((reply) => Number(reply[0]) === 1),
      ended: () => {
        this.held--;
      },
    };
  }

  /**
   * Number of acquires of this process waiting now (waits in other processes are not counted).
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'jobs');
   * const waiting = lock.acquire({ timeout: 1_000 });
   * lock.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** Runs a script of this primitive with ARGV[5..] = `args`. */
  #eval(script: string, args: string[]): Promise<unknown[]> {
    return evalScript(this.#redis, script, this.#keys, [...this.#args, ...args], this.label, this.name as string);
  }

  /**
   * Takes `weight` permits, waiting in FIFO order across all processes. The caller has
   * validated `options` and `weight`. @internal
   */
  protected take(weight: number, options: WaitOptions | undefined): Promise<Lease> {
    const signal = options?.signal;
    const timeout = options?.timeout;
    if (timeout === 0) return this.tryTake(weight, signal, true) as Promise<Lease>;
    const pending = { id: newId(), weight, state: SENDING, cancelled: false } as Pending;
    const promise = new Promise<Lease>((resolve) => {
      pending.node = watch(this.#waiters, signal, timeout, pending, resolve);
    });
    this.#pending.set(pending.id, pending);
    this.#send(pending);
    return promise;
  }

  /**
   * Takes `weight` permits if they are free and nobody waits, in one round trip; never queues.
   * With `orTimeout` (`timeout: 0`), not getting them is a TimeoutError. A signal that aborts
   * before the reply wins: the permits, if taken, are released. @internal
   */
  protected tryTake(weight: number, signal?: AbortSignal, orTimeout?: boolean): Promise<Lease | undefined> {
    const id = newId();
    const sentAt = now();
    return this.#eval(ACQUIRE, [id, String(weight), String(this.#lease), 'try']).then((reply) => {
      const token = Number(reply[0]);
      if (signal?.aborted) {
        if (token > 0) this.#leave(id);
        throw signal.reason;
      }
      if (token > 0) return this.#leaseOf(id, token, sentAt + this.#lease, false);
      if (orTimeout) throw timeoutError(this, 'acquire', 0);
      return undefined;
    });
  }

  #leaseOf(id: string, token: number, deadline: number, renewSoon: boolean): Lease {
    this.held++;
    return new RedisLease(this.#host, id, BigInt(token), this.#lease, deadline, renewSoon);
  }

  /** LEAVE, fire and forget: errors are dropped (the entry then expires in Redis by itself). */
  #leave(id: string): void {
    this.#eval(LEAVE, [id]).then(noop, noop);
  }

  /** Sends ACQUIRE for a registered wait. */
  #send(pending: Pending): void {
    const sentAt = now();
    // A grant published before the subscription is confirmed would be missed: poll after it.
    const watched = this.#channel?.confirmed === true;
    this.#eval(ACQUIRE, [pending.id, String(pending.weight), String(this.#lease), 'wait']).then(
      (reply) => {
        const token = Number(reply[0]);
        if (pending.cancelled) {
          this.#leave(pending.id);
          return;
        }
        // Granted by a message that overtook the reply.
        if (pending.state !== SENDING) return;
        if (token > 0) {
          this.#grant(pending, token, sentAt + this.#lease, false);
          return;
        }
        pending.state = QUEUED;
        this.#queued++;
        const channel = this.#watch();
        if (!watched) {
          channel.ready.then(
            () => this.#poll(),
            noop, // onChannelError handles it
          );
        }
      },
      (error: unknown) => this.#fail(pending, error),
    );
  }

  /** Joins the grant channel and arms the poll timer, if not yet done. */
  #watch(): Channel {
    let channel = this.#channel;
    // Stryker disable next-line ConditionalExpression: while #channel is set, the hub holds it with this listener in it (a failed or dropped channel clears #channel first), so join() would return it unchanged
    if (channel === undefined) {
      channel = join(this.#redis, this.#channelName, this.#listener);
      this.#channel = channel;
    }
    this.#arm();
    return channel;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      if (this.#queued === 0) return;
      this.#poll();
      this.#arm();
    }, POLL_INTERVAL);
  }

  /** Ends `pending` here (granted, given up or failed): forgets it, and stops what no wait needs. */
  #forget(pending: Pending): void {
    if (pending.state === QUEUED) this.#queued--;
    pending.state = DONE;
    this.#pending.delete(pending.id);
    if (this.#pending.size > 0) return;
    stopTimer(this.#timer);
    this.#timer = undefined;
    const channel = this.#channel;
    if (channel !== undefined) {
      this.#channel = undefined;
      leave(channel, this.#listener);
    }
  }

  #grant(pending: Pending, token: number, deadline: number, handedOver: boolean): void {
    const node = pending.node;
    this.#forget(pending);
    if (!this.#waiters.detach(node)) return;
    node.resolve(this.#leaseOf(pending.id, token, deadline, handedOver));
  }

  /** Rejects `pending` with a client's error; a queued entry is removed from Redis if it can be. */
  #fail(pending: Pending, error: unknown): void {
    // Stryker disable next-line ConditionalExpression: a DONE wait is detached and out of #pending already, and the timer and channel are stopped whenever #pending empties, so going on changes nothing
    if (pending.state === DONE) return;
    const queued = pending.state === QUEUED;
    this.#forget(pending);
    if (this.#waiters.detach(pending.node)) rejectWaiter(pending.node, error);
    if (queued) this.#leave(pending.id);
  }

  /** The wait gave up (its node is detached and rejected already). */
  #gaveUp(pending: Pending): void {
    const state = pending.state;
    pending.cancelled = true;
    this.#forget(pending);
    // While ACQUIRE is in flight, its reply sends LEAVE.
    if (state === QUEUED) this.#leave(pending.id);
  }

  /** A grant published on the channel: `"<id> <token>"`. */
  #onMessage(message: string): void {
    const space = message.lastIndexOf(' ');
    const pending = this.#pending.get(message.slice(0, space));
    // Stryker disable next-line ConditionalExpression: a wait leaves #pending in the same step as it becomes DONE (#forget), so a wait found there is never DONE
    if (pending === undefined || pending.state === DONE) return;
    // A hand-off's first lease is at most the heartbeat ttl: renewed by the next macrotask.
    this.#grant(pending, Number(message.slice(space + 1)), now() + Math.min(this.#lease, HEARTBEAT_TTL), true);
  }

  /** The subscription was lost: the queued waits reject with the client's error. */
  #onChannelError(error: unknown): void {
    this.#channel = undefined;
    for (const pending of [...this.#pending.values()]) {
      if (pending.state === QUEUED) this.#fail(pending, error);
    }
  }

  /** POLL for the queued waits: heartbeat, and grants whose message was lost. */
  #poll(): void {
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    const batch: Pending[] = [];
    for (const pending of this.#pending.values()) if (pending.state === QUEUED) batch.push(pending);
    if (batch.length === 0) return;
    this.#polling = true;
    const sentAt = now();
    this.#eval(
      POLL,
      batch.map((pending) => pending.id),
    )
      .then(
        (reply) => {
          batch.forEach((pending, i) => {
            if (pending.state !== QUEUED) return;
            const token = Number(reply[1 + 2 * i]);
            if (token > 0) {
              this.#grant(pending, token, sentAt + Number(reply[2 + 2 * i]), true);
            } else if (token < 0) {
              // Its entry expired (this process missed heartbeats): queue again, at the tail.
              this.#queued--;
              pending.state = SENDING;
              this.#send(pending);
            }
          });
        },
        (error: unknown) => {
          for (const pending of batch) this.#fail(pending, error);
        },
      )
      .finally(() => {
        this.#polling = false;
        if (this.#pollAgain) {
          this.#pollAgain = false;
          this.#poll();
        }
      });
  }
}
