/**
 * The `waitsafe/redis` adapters' subscription connection, with a fake client (no server): what a
 * long-lived connection keeps after subscriptions come and go. Runs on every runtime.
 */

import { describe, expect, it } from 'vitest';
import { ioredis } from '../src/redis/index.js';
import { afterGc } from './helpers.js';

/** A fake ioredis client whose duplicate answers SUBSCRIBE and UNSUBSCRIBE at once. */
function fakeClient() {
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  const subscriber = {
    subscribe: async (_channel: string) => 1,
    unsubscribe: async (_channel: string) => 0,
    quit: async () => 'OK',
    disconnect: () => {},
    on(event: string, listener: (...args: unknown[]) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return subscriber;
    },
  };
  return {
    client: { call: async () => null, duplicate: () => subscriber },
    fail: (error: Error) => {
      for (const listener of listeners.get('error') ?? []) listener(error);
    },
  };
}

describe('the subscription connection of an adapter', () => {
  it('keeps nothing of subscriptions that came and went while it stays open', async () => {
    const { client } = fakeClient();
    const redis = ioredis(client as never, { idleTimeout: Number.POSITIVE_INFINITY });
    // One subscription keeps the connection open all along, as on a busy service.
    const keep = await redis.subscribe('keep', () => {});
    const refs: WeakRef<object>[] = [];
    // In a function of its own, so that no frame of the test keeps the last callback.
    const churn = async (i: number) => {
      const onMessage = () => {};
      refs.push(new WeakRef(onMessage));
      const unsubscribe = await redis.subscribe(`channel-${i % 10}`, onMessage);
      await unsubscribe();
    };
    for (let i = 0; i < 200; i++) await churn(i);
    // Nothing is kept for the commands either: every SUBSCRIBE and UNSUBSCRIBE answered has left
    // the connection's list of commands in flight (a command raced against a promise that lives
    // as long as the connection would leave about 300 bytes there each time).
    expect((redis as unknown as { pendingCommands: number }).pendingCommands).toBe(0);
    // Every callback of a subscription that ended is collectable: the connection holds none of
    // them (a command raced against a promise that lives as long as the connection would).
    await afterGc(() => refs.every((ref) => ref.deref() === undefined));
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBe(0);
    await keep();
  });

  it('rejects the commands in flight when the connection fails, and the next subscription opens a new one', async () => {
    const { client, fail } = fakeClient();
    let opened = 0;
    const duplicate = client.duplicate;
    client.duplicate = () => {
      opened++;
      const subscriber = duplicate();
      // SUBSCRIBE never answers on this connection: only the failure can end it.
      return { ...subscriber, subscribe: () => new Promise<number>(() => {}), on: subscriber.on };
    };
    const redis = ioredis(client as never);
    const errors: unknown[] = [];
    const pending = redis.subscribe(
      'a',
      () => {},
      (error) => errors.push(error),
    );
    const broken = new Error('connection lost');
    fail(broken);
    await expect(pending).rejects.toBe(broken);
    expect(opened).toBe(1);
    void redis.subscribe('b', () => {}).catch(() => {});
    expect(opened).toBe(2);
  });
});
