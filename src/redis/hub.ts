/**
 * Shared subscriptions: one subscription per channel per {@link RedisLike}, whatever the number
 * of primitives and waits that need it, dropped by the next macrotask once none does (through
 * the engine's idle sweep, `core/idle.ts`, as shared timers and listeners are).
 *
 * @module
 */

import { releaseSoon } from '../core/idle.js';
import type { Releasable } from '../core/state.js';
import type { RedisLike } from './adapters.js';

/** A primitive's membership in a channel. */
export interface ChannelListener {
  /** A message published on the channel. */
  onMessage(message: string): void;
  /** The subscription failed or was lost: the channel is gone, and no message follows. */
  onError(error: unknown): void;
}

const noop = (): void => {};

/** The channels in use on each RedisLike. */
const hubs = new WeakMap<RedisLike, Map<string, Channel>>();

/** One channel subscribed on one RedisLike, and the primitives listening to it. */
export class Channel implements Releasable {
  idle = false;
  /** True until the channel is dropped or failed. */
  held = true;
  /** True once the server has confirmed the subscription. */
  confirmed = false;
  readonly listeners = new Set<ChannelListener>();
  /** Resolves once subscribed; rejects if the subscription failed. */
  declare readonly ready: Promise<void>;
  declare readonly name: string;
  declare readonly channels: Map<string, Channel>;
  readonly #unsubscribe: Promise<() => Promise<void>>;

  constructor(redis: RedisLike, name: string, channels: Map<string, Channel>) {
    this.name = name;
    this.channels = channels;
    let subscribed: Promise<() => Promise<void>>;
    try {
      subscribed = redis.subscribe(
        name,
        (message) => {
          if (!this.held) return;
          for (const listener of this.listeners) listener.onMessage(message);
        },
        (error) => this.#fail(error),
      );
    } catch (error) {
      subscribed = Promise.reject(error);
    }
    this.#unsubscribe = subscribed;
    this.ready = subscribed.then(() => {
      this.confirmed = true;
    });
    this.ready.catch((error: unknown) => this.#fail(error));
  }

  /** The idle sweep: unsubscribes if nobody listens any more. */
  release(): void {
    if (!this.held || this.listeners.size > 0) return;
    this.held = false;
    // Stryker disable next-line ConditionalExpression: a held channel is always the one in the map under its name (only release and #fail take it out, and both end its hold)
    if (this.channels.get(this.name) === this) this.channels.delete(this.name);
    this.#unsubscribe.then((unsubscribe) => unsubscribe()).catch(noop);
  }

  #fail(error: unknown): void {
    if (!this.held) return;
    this.held = false;
    // Stryker disable next-line ConditionalExpression: held until the line above, so the one in the map, or in none if subscribe() failed inside join() before join() put it there
    if (this.channels.get(this.name) === this) this.channels.delete(this.name);
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener.onError(error);
    this.#unsubscribe.then((unsubscribe) => unsubscribe()).catch(noop);
  }
}

/** Adds `listener` to `name` on `redis`, subscribing if nobody listens to it yet. */
export function join(redis: RedisLike, name: string, listener: ChannelListener): Channel {
  let channels = hubs.get(redis);
  if (channels === undefined) {
    channels = new Map();
    hubs.set(redis, channels);
  }
  let channel = channels.get(name);
  if (channel === undefined) {
    channel = new Channel(redis, name, channels);
    channels.set(name, channel);
  }
  channel.listeners.add(listener);
  return channel;
}

/** Removes `listener`; the channel is unsubscribed by the next macrotask if nobody listens then. */
export function leave(channel: Channel, listener: ChannelListener): void {
  channel.listeners.delete(listener);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: release() checks both again in the sweep and does nothing unless they hold then; queueing it for the sweep has no other effect
  if (channel.listeners.size === 0 && channel.held) releaseSoon(channel);
}
