/**
 * The `waitsafe/redis` adapters' subscription connection, with a fake client (no server): what a
 * long-lived connection keeps after subscriptions come and go. Runs on every runtime.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AdapterOptions, ioredis, nodeRedis, type RedisLike } from '../src/redis/index.js';
import { afterGc, flushMicrotasks, rejectionOf } from './helpers.js';

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

/** What a fake subscription connection does when the adapter calls it; each test may change it. */
interface Behaviour {
  subscribe: (channel: string) => Promise<unknown>;
  unsubscribe: (channel: string) => Promise<unknown>;
  destroy: () => void;
  duplicate: () => void;
}

/** One duplicate connection of a fake client: what the adapter did with it, and its events. */
interface FakeConnection {
  /** The adapter's calls, in order: 'subscribe a', 'unsubscribe a', 'close', 'destroy'. */
  readonly calls: string[];
  /** Publishes `message` on `channel` to it, as the server would. */
  publish(channel: string, message: string): void;
  /** Emits an `error` event on it (the connection failed). */
  fail(error: unknown): void;
}

/**
 * A fake client of either library: its commands answer with `reply`, and its duplicates (the
 * subscription connections, in `connections`) record what the adapter does with them.
 */
function fakeAdapter(kind: 'nodeRedis' | 'ioredis', options?: AdapterOptions) {
  const sent: string[][] = [];
  const connections: FakeConnection[] = [];
  const behaviour: Behaviour = {
    subscribe: async () => 1,
    unsubscribe: async () => 0,
    destroy: () => {},
    duplicate: () => {},
  };
  let reply: (command: string[]) => Promise<unknown> = async () => 'OK';
  /** The parts of a duplicate both libraries share, over `deliver(channel, message)`. */
  const connection = () => {
    const calls: string[] = [];
    const errorListeners: ((error: unknown) => void)[] = [];
    let deliver: (channel: string, message: string) => void = () => {};
    const fake: FakeConnection = {
      calls,
      publish: (channel, message) => deliver(channel, message),
      fail: (error) => {
        for (const listener of errorListeners) listener(error);
      },
    };
    connections.push(fake);
    return {
      calls,
      errorListeners,
      setDeliver: (fn: typeof deliver) => {
        deliver = fn;
      },
    };
  };
  if (kind === 'nodeRedis') {
    const client = {
      sendCommand: (args: string[]) => {
        sent.push(args);
        return reply(args);
      },
      duplicate: () => {
        behaviour.duplicate();
        const { calls, errorListeners, setDeliver } = connection();
        const listeners = new Map<string, (message: string, channel: string) => void>();
        setDeliver((channel, message) => listeners.get(channel)?.(message, channel));
        return {
          connect: async () => {},
          subscribe: (channel: string, listener: (message: string, channel: string) => void) => {
            calls.push(`subscribe ${channel}`);
            listeners.set(channel, listener);
            return behaviour.subscribe(channel);
          },
          unsubscribe: (channel: string) => {
            calls.push(`unsubscribe ${channel}`);
            listeners.delete(channel);
            return behaviour.unsubscribe(channel);
          },
          close: async () => {
            calls.push('close');
          },
          destroy: () => {
            calls.push('destroy');
            behaviour.destroy();
          },
          on: (_event: 'error', listener: (error: Error) => void) => {
            errorListeners.push(listener as (error: unknown) => void);
          },
        };
      },
    };
    return { redis: nodeRedis(client, options), sent, connections, behaviour, setReply };
  }
  const client = {
    call: (command: string, ...args: (string | number)[]) => {
      const all = [command, ...args.map(String)];
      sent.push(all);
      return reply(all);
    },
    duplicate: () => {
      behaviour.duplicate();
      const { calls, errorListeners, setDeliver } = connection();
      const subscribed = new Set<string>();
      let onMessage: (channel: string, message: string) => void = () => {};
      setDeliver((channel, message) => {
        if (subscribed.has(channel)) onMessage(channel, message);
      });
      return {
        subscribe: (channel: string) => {
          calls.push(`subscribe ${channel}`);
          subscribed.add(channel);
          return behaviour.subscribe(channel);
        },
        unsubscribe: (channel: string) => {
          calls.push(`unsubscribe ${channel}`);
          subscribed.delete(channel);
          return behaviour.unsubscribe(channel);
        },
        quit: async () => {
          calls.push('close');
          return 'OK';
        },
        disconnect: () => {
          calls.push('destroy');
          behaviour.destroy();
        },
        on: (event: string, listener: (...args: never[]) => void) => {
          if (event === 'error') errorListeners.push(listener as (error: unknown) => void);
          else onMessage = listener as typeof onMessage;
        },
      };
    },
  };
  return { redis: ioredis(client as never, options), sent, connections, behaviour, setReply };

  function setReply(fn: typeof reply): void {
    reply = fn;
  }
}

/** The adapter's commands in flight on its subscription connection (an @internal getter for tests). */
const pendingCommands = (redis: RedisLike) => (redis as unknown as { pendingCommands: number }).pendingCommands;

describe.each(['nodeRedis', 'ioredis'] as const)('the %s adapter, over a fake client', (kind) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('eval', () => {
    it('sends EVALSHA with the script SHA-1, then EVAL with the script when the server answers NOSCRIPT', async () => {
      const fake = fakeAdapter(kind);
      const script = "return redis.call('GET', KEYS[1])";
      fake.setReply(async ([command]) => {
        if (command === 'EVALSHA') throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return 'value';
      });
      expect(await fake.redis.eval(script, ['k'], ['a1', 'a2'])).toBe('value');
      // The SHA-1 of the script, as Redis computes it (`sha1sum`).
      const sha = 'd3c21d0c2b9ca22f82737626a27bcaf5d288f99f';
      expect(fake.sent).toEqual([
        ['EVALSHA', sha, '1', 'k', 'a1', 'a2'],
        ['EVAL', script, '1', 'k', 'a1', 'a2'],
      ]);
    });

    it('rejects with any other error of EVALSHA as it is, without sending EVAL', async () => {
      for (const error of [
        new Error('ERR user_script:1: boom'),
        new Error('BUSY running a script'),
        null,
        undefined,
        'NOSCRIPT?',
      ]) {
        const fake = fakeAdapter(kind);
        fake.setReply(() => Promise.reject(error));
        expect(await rejectionOf(fake.redis.eval('return 1', [], []))).toBe(error);
        expect(fake.sent.map(([command]) => command)).toEqual(['EVALSHA']);
      }
    });

    it('rejects, never throws, when the client throws synchronously', async () => {
      const fake = fakeAdapter(kind);
      const error = new Error('client closed');
      fake.setReply(() => {
        throw error;
      });
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = fake.redis.eval('return 1', [], []);
      }).not.toThrow();
      expect(await rejectionOf(result as Promise<unknown>)).toBe(error);
    });
  });

  describe('subscribe', () => {
    it('sends one SUBSCRIBE per channel, delivers each message to every subscriber of its channel only', async () => {
      const fake = fakeAdapter(kind, { idleTimeout: Number.POSITIVE_INFINITY });
      const got: string[] = [];
      const a1 = await fake.redis.subscribe('a', (m) => got.push(`a1 ${m}`));
      const a2 = await fake.redis.subscribe('a', (m) => got.push(`a2 ${m}`));
      const b = await fake.redis.subscribe('b', (m) => got.push(`b ${m}`));
      const [connection] = fake.connections;
      expect(fake.connections).toHaveLength(1);
      expect(connection?.calls).toEqual(['subscribe a', 'subscribe b']);
      connection?.publish('a', 'x');
      connection?.publish('b', 'y');
      connection?.publish('c', 'z');
      expect(got).toEqual(['a1 x', 'a2 x', 'b y']);
      await a1();
      await a2();
      await b();
    });

    it('sends UNSUBSCRIBE when the last subscriber of a channel leaves, and only then', async () => {
      const fake = fakeAdapter(kind, { idleTimeout: Number.POSITIVE_INFINITY });
      const got: string[] = [];
      const a1 = await fake.redis.subscribe('a', (m) => got.push(`a1 ${m}`));
      const a2 = await fake.redis.subscribe('a', (m) => got.push(`a2 ${m}`));
      const connection = fake.connections[0] as FakeConnection;
      await a1();
      expect(connection.calls).toEqual(['subscribe a']);
      connection.publish('a', 'x');
      expect(got).toEqual(['a2 x']);
      // Unsubscribing again changes nothing.
      await a1();
      expect(connection.calls).toEqual(['subscribe a']);
      await a2();
      expect(connection.calls).toEqual(['subscribe a', 'unsubscribe a']);
      expect(pendingCommands(fake.redis)).toBe(0);
      await a2();
      expect(connection.calls).toEqual(['subscribe a', 'unsubscribe a']);
      // A new subscriber subscribes again, on the same connection.
      const a3 = await fake.redis.subscribe('a', (m) => got.push(`a3 ${m}`));
      connection.publish('a', 'y');
      expect(got).toEqual(['a2 x', 'a3 y']);
      expect(connection.calls).toEqual(['subscribe a', 'unsubscribe a', 'subscribe a']);
      await a3();
    });

    it('counts its commands in flight: none before a subscription, one while SUBSCRIBE is unanswered', async () => {
      const fake = fakeAdapter(kind);
      expect(pendingCommands(fake.redis)).toBe(0);
      let answer: (value: unknown) => void = () => {};
      fake.behaviour.subscribe = () =>
        new Promise((resolve) => {
          answer = resolve;
        });
      const subscribing = fake.redis.subscribe('a', () => {});
      await flushMicrotasks();
      expect(pendingCommands(fake.redis)).toBe(1);
      answer(1);
      const unsubscribe = await subscribing;
      expect(pendingCommands(fake.redis)).toBe(0);
      await unsubscribe();
    });

    it('rejects with the error of a failed SUBSCRIBE, keeping nothing, and the next subscription sends it again', async () => {
      const fake = fakeAdapter(kind, { idleTimeout: Number.POSITIVE_INFINITY });
      const error = new Error('ERR max number of clients reached');
      fake.behaviour.subscribe = () => Promise.reject(error);
      expect(await rejectionOf(fake.redis.subscribe('a', () => {}))).toBe(error);
      // It unsubscribes (the server may have taken part of it), and keeps no command once answered.
      await flushMicrotasks();
      expect(fake.connections[0]?.calls).toEqual(['subscribe a', 'unsubscribe a']);
      expect(pendingCommands(fake.redis)).toBe(0);
      fake.behaviour.subscribe = async () => 1;
      const got: string[] = [];
      const unsubscribe = await fake.redis.subscribe('a', (m) => got.push(m));
      const connection = fake.connections[0] as FakeConnection;
      connection.publish('a', 'x');
      expect(got).toEqual(['x']);
      expect(connection.calls.filter((call) => call === 'subscribe a')).toHaveLength(2);
      await unsubscribe();
    });

    it('rejects, never throws, when the client throws synchronously', async () => {
      const fake = fakeAdapter(kind);
      const error = new Error('duplicate failed');
      fake.behaviour.duplicate = () => {
        throw error;
      };
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = fake.redis.subscribe('a', () => {});
      }).not.toThrow();
      expect(await rejectionOf(result as Promise<unknown>)).toBe(error);
      fake.behaviour.duplicate = () => {};
      const thrown = new Error('subscribe failed');
      fake.behaviour.subscribe = () => {
        throw thrown;
      };
      expect(await rejectionOf(fake.redis.subscribe('a', () => {}))).toBe(thrown);
      await flushMicrotasks();
      expect(pendingCommands(fake.redis)).toBe(0);
    });
  });

  describe('when the subscription connection fails', () => {
    it('calls onError of every subscriber once, destroys the connection once, and ignores what follows', async () => {
      const fake = fakeAdapter(kind);
      const errors: string[] = [];
      const got: string[] = [];
      // Without onError: skipped. With one: called with the client's error.
      const quiet = await fake.redis.subscribe('a', (m) => got.push(`quiet ${m}`));
      const a = await fake.redis.subscribe(
        'a',
        (m) => got.push(`a ${m}`),
        (error) => errors.push(`a ${(error as Error).message}`),
      );
      const b = await fake.redis.subscribe(
        'b',
        (m) => got.push(`b ${m}`),
        (error) => errors.push(`b ${(error as Error).message}`),
      );
      const connection = fake.connections[0] as FakeConnection;
      expect(() => connection.fail(new Error('lost'))).not.toThrow();
      expect(errors).toEqual(['a lost', 'b lost']);
      expect(connection.calls).toEqual(['subscribe a', 'subscribe b', 'destroy']);
      // A second error, a late message: nothing more.
      connection.fail(new Error('lost again'));
      connection.publish('a', 'late');
      expect(errors).toEqual(['a lost', 'b lost']);
      expect(got).toEqual([]);
      expect(connection.calls).toEqual(['subscribe a', 'subscribe b', 'destroy']);
      // Unsubscribing afterwards sends nothing, and leaves no timer.
      vi.useFakeTimers();
      await quiet();
      await a();
      await b();
      expect(vi.getTimerCount()).toBe(0);
      expect(connection.calls).toEqual(['subscribe a', 'subscribe b', 'destroy']);
      vi.useRealTimers();
      // The next subscription opens a new connection.
      const again = await fake.redis.subscribe('a', (m) => got.push(`again ${m}`));
      expect(fake.connections).toHaveLength(2);
      fake.connections[1]?.publish('a', 'x');
      expect(got).toEqual(['again x']);
      await again();
    });

    it('rejects the subscriptions in flight with the error, leaving no timer', async () => {
      vi.useFakeTimers();
      const fake = fakeAdapter(kind);
      fake.behaviour.subscribe = () => new Promise(() => {});
      const errors: unknown[] = [];
      const pending = fake.redis.subscribe(
        'a',
        () => {},
        (error) => errors.push(error),
      );
      await flushMicrotasks();
      const error = new Error('lost');
      fake.connections[0]?.fail(error);
      expect(await rejectionOf(pending)).toBe(error);
      expect(errors).toEqual([error]);
      expect(pendingCommands(fake.redis)).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('swallows an error of destroying the connection', async () => {
      const fake = fakeAdapter(kind);
      fake.behaviour.destroy = () => {
        throw new Error('already closed');
      };
      const errors: unknown[] = [];
      await fake.redis.subscribe(
        'a',
        () => {},
        (error) => errors.push(error),
      );
      const error = new Error('lost');
      expect(() => fake.connections[0]?.fail(error)).not.toThrow();
      expect(errors).toEqual([error]);
      expect(fake.connections[0]?.calls).toEqual(['subscribe a', 'destroy']);
    });

    it('clears the idle timer of a connection that fails while idle, and does not close it again', async () => {
      vi.useFakeTimers();
      const fake = fakeAdapter(kind, { idleTimeout: 100 });
      const unsubscribe = await fake.redis.subscribe('a', () => {});
      await unsubscribe();
      expect(vi.getTimerCount()).toBe(1);
      const connection = fake.connections[0] as FakeConnection;
      connection.fail(new Error('lost'));
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(connection.calls).toEqual(['subscribe a', 'unsubscribe a', 'destroy']);
    });
  });

  describe('the idle timeout', () => {
    it('closes the connection idleTimeout ms after the last subscription of any channel ends, no sooner', async () => {
      vi.useFakeTimers();
      const fake = fakeAdapter(kind, { idleTimeout: 100 });
      const a = await fake.redis.subscribe('a', () => {});
      const b = await fake.redis.subscribe('b', () => {});
      const connection = fake.connections[0] as FakeConnection;
      await a();
      // Channel b still open: no timer runs.
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60);
      await b();
      await vi.advanceTimersByTimeAsync(99);
      expect(connection.calls).not.toContain('close');
      await vi.advanceTimersByTimeAsync(1);
      expect(connection.calls).toEqual(['subscribe a', 'subscribe b', 'unsubscribe a', 'unsubscribe b', 'close']);
      // The next subscription opens a new connection.
      const c = await fake.redis.subscribe('c', () => {});
      expect(fake.connections).toHaveLength(2);
      await c();
    });

    it('counts from the end of the last subscription when one came meanwhile', async () => {
      vi.useFakeTimers();
      const fake = fakeAdapter(kind, { idleTimeout: 100 });
      const a = await fake.redis.subscribe('a', () => {});
      const connection = fake.connections[0] as FakeConnection;
      await a();
      await vi.advanceTimersByTimeAsync(60);
      // A subscription while the timer runs stops it: the connection is in use again.
      const b = await fake.redis.subscribe('b', () => {});
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10);
      await b();
      await vi.advanceTimersByTimeAsync(99);
      expect(connection.calls).not.toContain('close');
      expect(fake.connections).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(connection.calls).toContain('close');
    });

    it('never closes the connection with idleTimeout: Infinity, and sets no timer', async () => {
      vi.useFakeTimers();
      const fake = fakeAdapter(kind, { idleTimeout: Number.POSITIVE_INFINITY });
      const a = await fake.redis.subscribe('a', () => {});
      await a();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000_000);
      expect(fake.connections[0]?.calls).toEqual(['subscribe a', 'unsubscribe a']);
    });
  });

  describe('its arguments', () => {
    const [client, methods, what] =
      kind === 'nodeRedis'
        ? [{ sendCommand() {}, duplicate() {} }, 'sendCommand, duplicate', 'a client of the "redis" package']
        : [{ call() {}, duplicate() {} }, 'call, duplicate', 'an "ioredis" client'];
    const adapter = (c: unknown, options?: unknown) =>
      kind === 'nodeRedis' ? nodeRedis(c as never, options as never) : ioredis(c as never, options as never);

    it('names what the client must be and what it got', () => {
      expect(() => adapter(undefined)).toThrow(
        new TypeError(`The "client" argument must be ${what} (with ${methods}), got undefined`),
      );
      expect(() => adapter({ ...client, duplicate: 1 })).toThrow(
        new TypeError(`The "client" argument must be ${what} (with ${methods}), got object`),
      );
      // A function with the methods is not a client either.
      const fn = Object.assign(() => {}, client);
      expect(() => adapter(fn)).toThrow(
        new TypeError(`The "client" argument must be ${what} (with ${methods}), got function`),
      );
    });

    it('names what idleTimeout must be', () => {
      expect(() => adapter(client, { idleTimeout: '5' })).toThrow(
        new TypeError('The "idleTimeout" option must be a number of milliseconds, got string'),
      );
      expect(() => adapter(client, { idleTimeout: -1 })).toThrow(
        new RangeError('The "idleTimeout" option must be >= 0 or Infinity, got -1'),
      );
      expect(() => adapter(client, { idleTimeout: Number.NaN })).toThrow(
        new RangeError('The "idleTimeout" option must be >= 0 or Infinity, got NaN'),
      );
    });
  });
});
