import { timeoutError } from '../core/dom-errors.js';
import { rejectInvalid, type WaitOptions } from '../core/options.js';
import { Primitive } from '../core/primitive.js';
import { rejectWaiter, type Waiter } from '../core/waiter.js';
import { WaiterQueue, watch } from '../core/waiters.js';
import type { RedisLike } from './adapters.js';
import {
  checkName,
  checkOptions,
  checkRedis,
  evalScript,
  keysOf,
  POLL_INTERVAL,
  startTimer,
  stopTimer,
} from './common.js';
import { type Channel, type ChannelListener, join, leave } from './hub.js';
import { EVENT_CHECK, EVENT_CLEAR, EVENT_SET } from './scripts.js';

/**
 * The constructor options of {@link RedisEvent}.
 *
 * @example
 * ```ts
 * const options: RedisEventOptions = { maxWaiters: 10_000 };
 * const ready = new RedisEvent(redis, 'ready', options);
 * ```
 */
export interface RedisEventOptions {
  /**
   * Warn once when more waits than this are pending in this process (a likely waiter leak).
   * Default: `getDefaultMaxWaiters()` at the time of the check; `0` or `Infinity` disables.
   */
  maxWaiters?: number | undefined;
}

/**
 * The generation of the last set a wait knows did not wake it: `-1` until its first check.
 * The `data` of a waiter node.
 */
interface EventWait {
  generation: number;
}

/** The local queue: when the last wait leaves, the channel and the timer go. */
class EventWaiters extends WaiterQueue<true> {
  declare readonly left: () => void;

  constructor(owner: Primitive, left: () => void) {
    super(owner, 'wait');
    this.left = left;
  }

  override onCancel(node: Waiter<true>, reason: unknown): void {
    rejectWaiter(node, reason);
    this.left();
  }
}

/** The pending waits of `queue`, in order. */
function nodesOf(queue: WaiterQueue<true>): Waiter<true>[] {
  const nodes: Waiter<true>[] = [];
  for (let node = queue.head; node !== null; node = node.next) nodes.push(node);
  return nodes;
}

/**
 * A flag in Redis that processes can wait on, like `asyncio.Event` across processes: every
 * process that constructs one with the same name on the same server shares it. `set()` wakes
 * every waiter in every process (by pub/sub); waits made while it is set resolve at once, until
 * `clear()`.
 *
 * A wait subscribes to the event's channel (one subscription per channel, shared by all local
 * waits), then checks the flag, so a `set()` is never missed between the two. A slow poll while
 * waits are pending is only a safety net for a lost notification. A wait that gives up leaves
 * nothing behind: no local waiter, timer or listener, and no subscription once no wait needs it.
 *
 * Its keys are `waitsafe:{name}:…` (one hash tag); it keeps only a generation counter when clear.
 *
 * @example
 * ```ts
 * import { nodeRedis, RedisEvent } from 'waitsafe/redis';
 *
 * const migrated = new RedisEvent(nodeRedis(client), 'schema-migrated');
 * // in every replica:
 * await migrated.wait({ timeout: 60_000 });
 * // in the one that migrates:
 * await migrated.set();
 * ```
 */
export class RedisEvent extends Primitive {
  readonly #redis: RedisLike;
  readonly #keys: string[];
  readonly #args: string[];
  readonly #channelName: string;
  readonly #waiters: EventWaiters;
  readonly #listener: ChannelListener;
  #channel: Channel | undefined = undefined;
  #timer: unknown = undefined;
  #checking = false;
  #checkAgain = false;

  /**
   * @param redis The connection: {@link nodeRedis}`(client)` or {@link ioredis}`(client)`.
   * @param name The event's name on the server: a non-empty string.
   * @param options `maxWaiters` (see {@link RedisEventOptions}).
   * @throws {TypeError} If `redis` is not a RedisLike, `name` is not a non-empty string,
   *   `maxWaiters` has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(redis: RedisLike, name: string, options?: RedisEventOptions) {
    const r = checkRedis(redis);
    const n = checkName(name);
    const { maxWaiters } = checkOptions<RedisEventOptions>(options, ['maxWaiters']);
    // Stryker disable next-line ConditionalExpression: Primitive takes maxWaiters: undefined as no maxWaiters, the same as { name } alone
    super(maxWaiters === undefined ? { name: n } : { name: n, maxWaiters });
    this.#redis = r;
    this.#keys = keysOf(n, ['kind', 'set', 'token']);
    this.#channelName = `waitsafe:{${n}}:set`;
    this.#args = [this.#channelName, 'RedisEvent'];
    this.#waiters = new EventWaiters(this, () => this.#left());
    this.#listener = {
      onMessage: (message) => this.#onMessage(Number(message)),
      onError: (error) => {
        this.#channel = undefined;
        for (const node of nodesOf(this.#waiters)) this.#settle(node, error);
      },
    };
  }

  #eval(script: string): Promise<unknown[]> {
    return evalScript(this.#redis, script, this.#keys, this.#args, this.label, this.name as string);
  }

  /**
   * Sets the event and wakes every wait on it, in every process. Idempotent. Waits made while it
   * is set resolve at once.
   *
   * @returns A promise that resolves once the event is set in Redis (the waits of this process
   *   that started before the call are resolved by then). It never throws synchronously.
   * @throws {TypeError} (as a rejection) If the name is in use by another kind of primitive.
   * @throws {unknown} (as a rejection) The client's error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * const ready = new RedisEvent(redis, 'ready');
   * await ready.set();
   * await ready.isSet(); // true
   * ```
   */
  set(): Promise<void> {
    const waiting = nodesOf(this.#waiters);
    return this.#eval(EVENT_SET).then(() => {
      for (const node of waiting) this.#settle(node, true);
    });
  }

  /**
   * Clears the event: later waits block until the next `set()`. Waits that a `set()` already
   * woke stay woken.
   *
   * @returns A promise that resolves once the event is clear in Redis. It never throws
   *   synchronously.
   * @throws {TypeError} (as a rejection) If the name is in use by another kind of primitive.
   * @throws {unknown} (as a rejection) The client's error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * const ready = new RedisEvent(redis, 'ready');
   * await ready.clear();
   * await ready.isSet(); // false
   * ```
   */
  clear(): Promise<void> {
    return this.#eval(EVENT_CLEAR).then(() => undefined);
  }

  /**
   * Whether the event is set, as Redis has it now.
   *
   * @returns A promise of the answer. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If the name is in use by another kind of primitive.
   * @throws {unknown} (as a rejection) The client's error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * const ready = new RedisEvent(redis, 'ready');
   * if (!(await ready.isSet())) console.log('not yet');
   * ```
   */
  isSet(): Promise<boolean> {
    return this.#eval(EVENT_CHECK).then((reply) => Number(reply[0]) === 1);
  }

  /**
   * Waits until the event is set. Resolves with `true` after one round trip if it is set now.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * sending nothing to Redis, if it is already aborted). With `timeout`, it rejects with a
   * `TimeoutError` DOMException after that many milliseconds; `timeout: 0` checks the flag once
   * and rejects unless it is set. Either way the waiter is gone at once, and the subscription
   * goes by the next macrotask if no other wait needs it. Once a set woke the wait, a later abort
   * changes nothing.
   *
   * @param options `signal` and/or `timeout` (ms; `Infinity` or absent: no limit).
   * @returns A promise of `true`. It never throws synchronously.
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
   * const ready = new RedisEvent(redis, 'ready');
   * await ready.wait({ signal: request.signal, timeout: 10_000 });
   * ```
   */
  wait(options?: WaitOptions): Promise<true> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
      if (options.timeout === 0) {
        const signal = options.signal;
        return this.#eval(EVENT_CHECK).then((reply) => {
          if (signal?.aborted) throw signal.reason;
          if (Number(reply[0]) === 1) return true;
          throw timeoutError(this, 'wait', 0);
        });
      }
    }
    const wait: EventWait = { generation: -1 };
    const promise = new Promise<true>((resolve) => {
      watch(this.#waiters, options?.signal, options?.timeout, wait, resolve);
    });
    let channel = this.#channel;
    // Stryker disable next-line ConditionalExpression: while #channel is set, it is the channel join() finds for the name (#channel is cleared when that channel fails or is left), and adding the listener again is a no-op (a Set)
    if (channel === undefined) {
      channel = join(this.#redis, this.#channelName, this.#listener);
      this.#channel = channel;
    }
    if (channel.confirmed) this.#check();
    else channel.ready.then(() => this.#check(), noop);
    this.#arm();
    return promise;
  }

  /**
   * Number of waits of this process pending now (waits in other processes are not counted).
   *
   * @example
   * ```ts
   * const ready = new RedisEvent(redis, 'ready');
   * const waiting = ready.wait({ timeout: 1_000 });
   * ready.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** Ends a wait: resolves it with `true`, or rejects it with an error. */
  #settle(node: Waiter<true>, outcome: true | unknown): void {
    if (!this.#waiters.detach(node)) return;
    if (outcome === true) node.resolve(true);
    else rejectWaiter(node, outcome);
    this.#left();
  }

  /** A wait left: when none is left, the timer goes now and the subscription by the next macrotask. */
  #left(): void {
    if (this.#waiters.size > 0) return;
    stopTimer(this.#timer);
    this.#timer = undefined;
    const channel = this.#channel;
    if (channel !== undefined) {
      this.#channel = undefined;
      leave(channel, this.#listener);
    }
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      if (this.#waiters.size === 0) return;
      this.#check();
      this.#arm();
    }, POLL_INTERVAL);
  }

  /** A set was published: it wakes the waits that do not know it yet. */
  #onMessage(generation: number): void {
    for (const node of nodesOf(this.#waiters)) {
      if (generation > (node.data as EventWait).generation || (node.data as EventWait).generation < 0) {
        this.#settle(node, true);
      }
    }
  }

  /**
   * CHECK for the pending waits (after their subscription is confirmed, and then as the safety
   * net): set wakes them all; a generation past the one a wait knows wakes it (a set it missed).
   */
  #check(): void {
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    const batch = nodesOf(this.#waiters);
    if (batch.length === 0) return;
    this.#checking = true;
    this.#eval(EVENT_CHECK)
      .then(
        (reply) => {
          const set = Number(reply[0]) === 1;
          const generation = Number(reply[1]);
          for (const node of batch) {
            const wait = node.data as EventWait;
            if (set || (wait.generation >= 0 && generation > wait.generation)) this.#settle(node, true);
            else if (wait.generation < 0) wait.generation = generation;
          }
        },
        (error: unknown) => {
          for (const node of batch) this.#settle(node, error);
        },
      )
      .finally(() => {
        this.#checking = false;
        if (this.#checkAgain) {
          this.#checkAgain = false;
          this.#check();
        }
      });
  }

  /** `'RedisEvent'`. */
  get [Symbol.toStringTag](): string {
    return 'RedisEvent';
  }

  protected describeState(): string {
    return `waiters:${this.#waiters.size}`;
  }
}

const noop = (): void => {};
