/**
 * The adapters: what the primitives need of a Redis client ({@link RedisLike}), made from a
 * `redis` (node-redis v5+) or an `ioredis` client. The clients are typed structurally, so waitsafe
 * depends on neither.
 *
 * An adapter sends scripts on the user's client (`EVALSHA`, then `EVAL` if the server does not
 * know the script yet), and keeps one connection of its own for subscriptions: a duplicate of the
 * client, made when a wait first needs it, with one `SUBSCRIBE` per channel however many waits
 * share it, and closed once no channel has been subscribed for `idleTimeout` ms. If that
 * connection fails (an `error` event: Redis went away), every subscription on it ends with the
 * client's error, the connection is dropped, and the next subscription makes a new one.
 *
 * @module
 */

import { badValue, invalidKeys } from '../core/options.js';
import { sha1 } from './sha1.js';

/**
 * What the primitives of `waitsafe/redis` need of a Redis connection: two methods. Make one from
 * a client with {@link nodeRedis} or {@link ioredis}, or implement it for another client.
 *
 * @example
 * ```ts
 * const redis: RedisLike = nodeRedis(client);
 * await redis.eval("return redis.call('PING')", [], []); // 'PONG'
 * ```
 */
export interface RedisLike {
  /**
   * Runs a Lua script: `EVALSHA` with the script's SHA-1, and `EVAL` if the server answers
   * `NOSCRIPT`. Resolves with the script's reply; rejects with the client's error.
   *
   * @example
   * ```ts
   * const redis = nodeRedis(client);
   * const visits = await redis.eval("return redis.call('INCR', KEYS[1])", ['visits'], []);
   * ```
   */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Subscribes to `channel` and calls `onMessage` with each message published on it, until the
   * function it resolves with is called. Resolves once the server has confirmed the
   * subscription; rejects with the client's error if it cannot subscribe. If the subscription is
   * lost later (the connection failed), `onError` is called once with the error and no message
   * follows.
   *
   * @example
   * ```ts
   * const redis = nodeRedis(client);
   * const unsubscribe = await redis.subscribe('news', (message) => console.log(message));
   * await unsubscribe();
   * ```
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onError?: (error: unknown) => void,
  ): Promise<() => Promise<void>>;
}

/**
 * Options of {@link nodeRedis} and {@link ioredis}.
 *
 * @example
 * ```ts
 * const options: AdapterOptions = { idleTimeout: 10_000 };
 * const redis = nodeRedis(client, options);
 * ```
 */
export interface AdapterOptions {
  /**
   * How long (ms) the adapter's subscription connection stays open once no wait needs a
   * subscription: default 2000; `Infinity` keeps it open. While it is open, the process does not
   * exit by itself.
   */
  idleTimeout?: number | undefined;
}

/**
 * The parts of a `redis` (node-redis v5+) client that {@link nodeRedis} uses: `sendCommand` and,
 * for subscriptions, `duplicate()`.
 *
 * @example
 * ```ts
 * const redis = nodeRedis(client satisfies NodeRedisClient);
 * ```
 */
export interface NodeRedisClient {
  /** Sends a command. */
  sendCommand: (args: string[]) => Promise<unknown>;
  /** A new, not yet connected client with the same options. */
  duplicate: () => NodeRedisSubscriber;
}

/**
 * The parts of a duplicate node-redis client that {@link nodeRedis} uses for subscriptions.
 *
 * @example
 * ```ts
 * const subscriber: NodeRedisSubscriber = client.duplicate();
 * ```
 */
export interface NodeRedisSubscriber {
  /** Connects. */
  connect: () => Promise<unknown>;
  /** Subscribes `listener` to `channel`. */
  subscribe: (channel: string, listener: (message: string, channel: string) => void) => Promise<unknown>;
  /** Unsubscribes `listener` from `channel`. */
  unsubscribe: (channel: string, listener: (message: string, channel: string) => void) => Promise<unknown>;
  /** Closes once pending commands are answered. */
  close: () => Promise<unknown>;
  /** Closes at once. */
  destroy: () => void;
  /** Listens for connection errors. */
  on: (event: 'error', listener: (error: Error) => void) => unknown;
}

/**
 * The parts of an `ioredis` client that {@link ioredis} uses: `call` and, for subscriptions,
 * `duplicate()`.
 *
 * @example
 * ```ts
 * const redis = ioredis(ioredisClient satisfies IORedisClient);
 * ```
 */
export interface IORedisClient {
  /** Sends a command. */
  call: (command: string, ...args: (string | number)[]) => Promise<unknown>;
  /** A new client with the same options. */
  duplicate: () => IORedisSubscriber;
}

/**
 * The parts of a duplicate ioredis client that {@link ioredis} uses for subscriptions.
 *
 * @example
 * ```ts
 * const subscriber: IORedisSubscriber = ioredisClient.duplicate();
 * ```
 */
export interface IORedisSubscriber {
  /** Subscribes to `channel`. */
  subscribe: (channel: string) => Promise<unknown>;
  /** Unsubscribes from `channel`. */
  unsubscribe: (channel: string) => Promise<unknown>;
  /** Closes once pending commands are answered. */
  quit: () => Promise<unknown>;
  /** Closes at once. */
  disconnect: () => void;
  /** Listens for messages and connection errors. */
  on: {
    (event: 'message', listener: (channel: string, message: string) => void): unknown;
    (event: 'error', listener: (error: Error) => void): unknown;
  };
}

/** A subscription connection, as an adapter opens it. */
interface Connection {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Closes once pending commands are answered; never throws or rejects. */
  close(): void;
  /** Closes at once; never throws. */
  destroy(): void;
}

/** Opens a subscription connection that calls `deliver` with each message and `fail` on an error. */
type Open = (deliver: (channel: string, message: string) => void, fail: (error: unknown) => void) => Connection;

/** Sends one command. */
type Send = (args: string[]) => Promise<unknown>;

interface Subscriber {
  readonly onMessage: (message: string) => void;
  readonly onError: ((error: unknown) => void) | undefined;
}

/** One channel on a connection: its subscribers, and its `SUBSCRIBE` once confirmed. */
interface ChannelState {
  readonly subscribers: Set<Subscriber>;
  readonly ready: Promise<unknown>;
}

/** One subscription connection and its channels. */
interface Link {
  readonly connection: Connection;
  readonly channels: Map<string, ChannelState>;
  /**
   * The rejecters of the commands in flight on it, called if the connection fails. (Not a
   * promise raced against each command: every race would leave a reaction on it for as long as
   * the connection lives, a leak of about 300 bytes per subscribe on a busy connection.)
   */
  readonly pending: Set<(error: unknown) => void>;
  dead: boolean;
  idle: unknown;
}

const noop = (): void => {};

/** Runs a command on `link`: settles as it does, or rejects if the connection fails first. */
function onLink<T>(link: Link, command: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    link.pending.add(reject);
    attempt(command).then(
      (value) => {
        link.pending.delete(reject);
        resolve(value);
      },
      (error: unknown) => {
        link.pending.delete(reject);
        reject(error);
      },
    );
  });
}

/** Calls `fn`; a synchronous throw becomes a rejection. */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The default of {@link AdapterOptions.idleTimeout}. */
const IDLE_TIMEOUT = 2_000;

function idleTimeoutOf(options: unknown): number {
  if (options === undefined) return IDLE_TIMEOUT;
  const error = invalidKeys(options, ['idleTimeout']);
  if (error !== undefined) throw error;
  const ms = (options as AdapterOptions).idleTimeout;
  if (ms === undefined) return IDLE_TIMEOUT;
  if (typeof ms !== 'number') throw badValue('The "idleTimeout" option', 'a number of milliseconds', ms);
  if (!(ms >= 0)) throw badValue('The "idleTimeout" option', '>= 0 or Infinity', ms, true);
  return ms;
}

function checkClient(client: unknown, methods: readonly string[], what: string): void {
  const c = client as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || methods.some((m) => typeof c[m] !== 'function')) {
    throw new TypeError(`The "client" argument must be ${what} (with ${methods.join(', ')}), got ${typeof client}`);
  }
}

/** Whether `error` is the server's answer to `EVALSHA` of a script it does not have. */
const isNoScript = (error: unknown): boolean =>
  String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT');

/** The {@link RedisLike} of both adapters, over `send` and `open`. */
class Adapter implements RedisLike {
  readonly #send: Send;
  readonly #open: Open;
  readonly #idleTimeout: number;
  readonly #shas = new Map<string, string>();
  #link: Link | undefined = undefined;

  constructor(send: Send, open: Open, idleTimeout: number) {
    this.#send = send;
    this.#open = open;
    this.#idleTimeout = idleTimeout;
  }

  /** Commands in flight on the subscription connection (0 once all are answered). @internal */
  get pendingCommands(): number {
    return this.#link?.pending.size ?? 0;
  }

  eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      let sha = this.#shas.get(script);
      if (sha === undefined) {
        sha = sha1(script);
        this.#shas.set(script, sha);
      }
      const rest = [String(keys.length), ...keys, ...args];
      return this.#send(['EVALSHA', sha, ...rest]).catch((error: unknown) => {
        if (!isNoScript(error)) throw error;
        return this.#send(['EVAL', script, ...rest]);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onError?: (error: unknown) => void,
  ): Promise<() => Promise<void>> {
    let link: Link;
    try {
      link = this.#link ?? this.#connect();
    } catch (error) {
      return Promise.reject(error);
    }
    const clear = (globalThis as { clearTimeout: (handle: unknown) => void }).clearTimeout;
    if (link.idle !== undefined) {
      clear(link.idle);
      link.idle = undefined;
    }
    let state = link.channels.get(channel);
    if (state === undefined) {
      const ready = onLink(link, () => link.connection.subscribe(channel));
      state = { subscribers: new Set(), ready };
      link.channels.set(channel, state);
      // The subscribers see the error (below); this keeps it from counting as unhandled.
      ready.catch(noop);
    }
    const subscriber: Subscriber = { onMessage, onError };
    const channelState = state;
    channelState.subscribers.add(subscriber);
    let subscribed = true;
    const unsubscribe = (): Promise<void> => {
      if (!subscribed) return Promise.resolve();
      // Stryker disable next-line BooleanLiteral: a second #unsubscribe of the same subscriber is a no-op anyway (it finds the subscriber gone, and the channel still held by others or no longer current), so this flag only saves the call
      subscribed = false;
      return this.#unsubscribe(link, channel, channelState, subscriber);
    };
    return channelState.ready.then(
      () => unsubscribe,
      (error: unknown) => {
        void unsubscribe();
        throw error;
      },
    );
  }

  /** Opens the subscription connection. */
  #connect(): Link {
    const link: Link = {
      connection: undefined as unknown as Connection,
      channels: new Map(),
      pending: new Set(),
      dead: false,
      idle: undefined,
    };
    const deliver = (channel: string, message: string) => {
      const state = link.channels.get(channel);
      if (state === undefined || link.dead) return;
      for (const subscriber of state.subscribers) subscriber.onMessage(message);
    };
    const fail = (error: unknown) => {
      if (link.dead) return;
      this.#drop(link);
      link.connection.destroy();
      const pending = [...link.pending];
      link.pending.clear();
      for (const reject of pending) reject(error);
      const channels = [...link.channels.values()];
      link.channels.clear();
      for (const state of channels) {
        for (const subscriber of state.subscribers) subscriber.onError?.(error);
      }
    };
    (link as { connection: Connection }).connection = this.#open(deliver, fail);
    this.#link = link;
    return link;
  }

  #drop(link: Link): void {
    link.dead = true;
    if (this.#link === link) this.#link = undefined;
    if (link.idle !== undefined) {
      (globalThis as { clearTimeout: (handle: unknown) => void }).clearTimeout(link.idle);
      link.idle = undefined;
    }
  }

  #unsubscribe(link: Link, channel: string, state: ChannelState, subscriber: Subscriber): Promise<void> {
    state.subscribers.delete(subscriber);
    if (state.subscribers.size > 0 || link.channels.get(channel) !== state) return Promise.resolve();
    link.channels.delete(channel);
    if (link.channels.size === 0 && this.#idleTimeout !== Infinity) {
      const set = (globalThis as { setTimeout: (fn: () => void, ms: number) => unknown }).setTimeout;
      link.idle = set(() => {
        link.idle = undefined;
        // Stryker disable next-line LogicalOperator: never true either way: subscribe() and #drop() clear this timer, so it never fires with a channel subscribed or the link dead
        if (link.channels.size > 0 || link.dead) return;
        this.#drop(link);
        link.connection.close();
      }, this.#idleTimeout);
    }
    if (link.dead) return Promise.resolve();
    return onLink(link, () => link.connection.unsubscribe(channel)).then(noop);
  }
}

/**
 * Wraps a connected `redis` (node-redis v5 or later) client for the primitives of
 * `waitsafe/redis`. The client stays yours: waitsafe never closes it. Subscriptions use a
 * duplicate of it, which the adapter connects when a wait first needs it and closes once no wait
 * has needed it for `idleTimeout` ms (default 2000), so a process whose waits have all ended can
 * exit. Several primitives on one adapter share its connections: make one adapter per client.
 *
 * @param client A connected client of the `redis` package (`createClient()`), version 5 or later.
 * @param options `idleTimeout`: see {@link AdapterOptions}.
 * @throws {TypeError} If `client` does not look like a node-redis client, or `options` is not an
 *   object or has a key other than `idleTimeout`, or `idleTimeout` is not a number.
 * @throws {RangeError} If `idleTimeout` is negative or NaN.
 *
 * @example
 * ```ts
 * import { nodeRedis, RedisEvent, RedisLock } from 'waitsafe/redis';
 *
 * // client: a connected `redis` client, from await createClient({ url }).connect()
 * const redis = nodeRedis(client);
 * const lock = new RedisLock(redis, 'jobs');
 * const events = new RedisEvent(redis, 'deployed'); // shares the adapter's connections
 * ```
 */
export function nodeRedis(client: NodeRedisClient, options?: AdapterOptions): RedisLike {
  checkClient(client, ['sendCommand', 'duplicate'], 'a client of the "redis" package');
  const idleTimeout = idleTimeoutOf(options);
  const open: Open = (deliver, fail) => {
    const subscriber = client.duplicate();
    subscriber.on('error', fail);
    const connected = Promise.resolve().then(() => subscriber.connect());
    connected.catch(fail);
    const listener = (message: string, channel: string) => deliver(channel, message);
    return {
      subscribe: (channel) => connected.then(() => subscriber.subscribe(channel, listener)),
      unsubscribe: (channel) => connected.then(() => subscriber.unsubscribe(channel, listener)),
      close: () => {
        connected.then(() => subscriber.close()).catch(noop);
      },
      destroy: () => {
        try {
          subscriber.destroy();
        } catch {
          // already closed
        }
      },
    };
  };
  return new Adapter((args) => client.sendCommand(args), open, idleTimeout);
}

/**
 * Wraps an `ioredis` client for the primitives of `waitsafe/redis`. The client stays yours:
 * waitsafe never closes it. Subscriptions use a duplicate of it, made when a wait first needs it
 * and closed once no wait has needed it for `idleTimeout` ms (default 2000), so a process whose
 * waits have all ended can exit. Several primitives on one adapter share its connections: make
 * one adapter per client.
 *
 * @param client An `ioredis` client (`new Redis(...)`), for a single Redis primary.
 * @param options `idleTimeout`: see {@link AdapterOptions}.
 * @throws {TypeError} If `client` does not look like an ioredis client, or `options` is not an
 *   object or has a key other than `idleTimeout`, or `idleTimeout` is not a number.
 * @throws {RangeError} If `idleTimeout` is negative or NaN.
 *
 * @example
 * ```ts
 * import { ioredis, RedisSemaphore } from 'waitsafe/redis';
 *
 * // ioredisClient: an `ioredis` client, from new Redis(url)
 * const slots = new RedisSemaphore(ioredis(ioredisClient), 'render-slots', 4);
 * ```
 */
export function ioredis(client: IORedisClient, options?: AdapterOptions): RedisLike {
  checkClient(client, ['call', 'duplicate'], 'an "ioredis" client');
  const idleTimeout = idleTimeoutOf(options);
  const open: Open = (deliver, fail) => {
    const subscriber = client.duplicate();
    subscriber.on('error', fail);
    subscriber.on('message', deliver);
    return {
      subscribe: (channel) => subscriber.subscribe(channel),
      unsubscribe: (channel) => subscriber.unsubscribe(channel),
      close: () => {
        subscriber.quit().catch(noop);
      },
      destroy: () => {
        try {
          subscriber.disconnect();
        } catch {
          // already closed
        }
      },
    };
  };
  return new Adapter(([command, ...args]) => client.call(command as string, ...args), open, idleTimeout);
}
