/**
 * `RedisEvent` and what it shares with the other Redis primitives (the shared subscriptions of
 * `src/redis/hub.ts`, the checks, errors, ids and timers of `src/redis/common.ts`), step by step.
 *
 * Most tests drive the event over a scripted RedisLike (the interface users may implement for
 * another client): every `eval` and `subscribe` waits until the test answers it, and the poll
 * timer runs on fake timers, so the order of subscriptions, checks, messages and failures is the
 * test's to choose and nothing depends on the machine's speed. A few tests use a real
 * `redis-server` (started on a free loopback port by `redis-server.ts`) for what Redis itself
 * holds: the keys, the kind, and its errors.
 */

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ioredis, RedisEvent, type RedisLike, RedisLock, RedisSemaphore } from '../src/redis/index.js';
import { EVENT_CHECK } from '../src/redis/scripts.js';
import {
  callWithoutThrowing,
  expectTimeoutError,
  flushMicrotasks,
  nextMacrotask,
  rejectionOf,
  track,
} from './helpers.js';
import { hasRedis, INSTALL_HINT, type RedisServer, startRedis } from './redis-server.js';

if (!hasRedis) {
  process.stderr.write(`redis-events.node.test.ts: the real-server tests are skipped: ${INSTALL_HINT}\n`);
}

/** The poll interval of a waiting process (common.ts, POLL_INTERVAL). */
const POLL = 1_000;

/** One `eval` the scripted RedisLike received, answered when the test says. */
interface EvalCall {
  script: string;
  keys: string[];
  args: string[];
  resolve(reply: unknown): void;
  reject(error: unknown): void;
}

/** One `subscribe` the scripted RedisLike received. */
interface Subscription {
  channel: string;
  /** Delivers a message published on the channel. */
  onMessage: (message: string) => void;
  /** Reports the subscription lost. */
  onError: (error: unknown) => void;
  /** Confirms the subscription (the server answered SUBSCRIBE). */
  confirm(): void;
  /** Fails it (SUBSCRIBE could not be sent). */
  refuse(error: unknown): void;
  /** How many times its unsubscribe function was called. */
  unsubscribes: number;
}

/** A RedisLike whose every call waits until the test answers it. */
function scripted() {
  const evals: EvalCall[] = [];
  const subscriptions: Subscription[] = [];
  const redis: RedisLike = {
    eval(script, keys, args) {
      return new Promise((resolve, reject) => {
        evals.push({ script, keys, args, resolve, reject });
      });
    },
    subscribe(channel, onMessage, onError) {
      return new Promise((resolve, reject) => {
        const subscription: Subscription = {
          channel,
          onMessage,
          onError: (error) => onError?.(error),
          confirm: () =>
            resolve(async () => {
              subscription.unsubscribes++;
            }),
          refuse: reject,
          unsubscribes: 0,
        };
        subscriptions.push(subscription);
      });
    },
  };
  return {
    redis,
    evals,
    subscriptions,
    /** The CHECKs sent so far. */
    checks: () => evals.filter((call) => call.script === EVENT_CHECK),
    /** The last CHECK sent. */
    lastCheck: () => {
      const all = evals.filter((call) => call.script === EVENT_CHECK);
      const last = all[all.length - 1];
      if (last === undefined) expect.fail('no CHECK was sent');
      return last;
    },
  };
}

/** The reply of CHECK: `[1, generation]` while set, else `[0, generation of the last set]`. */
const isSet = (generation: number) => [1, generation];
const notSet = (generation: number) => [0, generation];

describe('RedisEvent over a scripted RedisLike', () => {
  beforeEach(() => {
    // Only the poll timer is faked: the idle sweep (setImmediate) stays real, so that
    // nextMacrotask() lets it run.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks the flag once the subscription is confirmed, then once per poll, with one timer for all waits', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'polled');
    const first = track(event.wait());
    expect(fake.subscriptions.map((s) => s.channel)).toEqual(['waitsafe:{polled}:set']);
    await flushMicrotasks();
    // A set published before the subscription is confirmed would be missed: no check before it.
    expect(fake.evals).toHaveLength(0);
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(1);
    expect(fake.lastCheck().keys).toEqual([
      'waitsafe:{polled}:kind',
      'waitsafe:{polled}:set',
      'waitsafe:{polled}:token',
    ]);
    expect(fake.lastCheck().args).toEqual(['waitsafe:{polled}:set', 'RedisEvent']);
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    // One check for the wait, no more until the poll.
    expect(fake.checks()).toHaveLength(1);
    const second = track(event.wait());
    expect(fake.checks()).toHaveLength(2);
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(2);
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    // One poll timer, whatever the number of waits.
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(POLL);
    expect(fake.checks()).toHaveLength(3);
    // The same generation, still clear: nothing happened since the waits began.
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(POLL);
    expect(fake.checks()).toHaveLength(4);
    fake.lastCheck().resolve(isSet(6));
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(event.waiterCount).toBe(0);
    // The timer went with the last wait, and the subscription goes by the next macrotask.
    expect(vi.getTimerCount()).toBe(0);
    expect(fake.subscriptions[0]?.unsubscribes).toBe(0);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
    expect(fake.checks()).toHaveLength(4);
  });

  it('sends the check of a wait at once when the subscription is already confirmed', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'confirmed');
    const first = track(event.wait());
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    const second = track(event.wait());
    // In the same synchronous step as the call.
    expect(fake.checks()).toHaveLength(2);
    expect(fake.subscriptions).toHaveLength(1);
    // The first wait knows generation 5 already: a reply of 5 again does not wake it.
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    // A set of a later generation wakes both, without another round trip.
    fake.subscriptions[0]?.onMessage('6');
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(fake.checks()).toHaveLength(2);
  });

  it('never runs two checks at once: a wait that comes during one gets its own check after it', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'serial');
    const first = track(event.wait());
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(1);
    const second = track(event.wait());
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(1);
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    // The second gets its check once the first's is answered, not at the next poll; and then no
    // more until the poll.
    expect(fake.checks()).toHaveLength(2);
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(2);
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    // A check's reply covers the waits it was sent for only: a wait that came during it waits
    // for its own.
    const third = track(event.wait());
    const fourth = track(event.wait());
    expect(fake.checks()).toHaveLength(3);
    fake.lastCheck().resolve(isSet(6));
    await flushMicrotasks();
    expect([first.status, second.status, third.status, fourth.status]).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'pending',
    ]);
    expect(fake.checks()).toHaveLength(4);
    fake.lastCheck().resolve(isSet(6));
    await flushMicrotasks();
    expect(fourth.status).toBe('fulfilled');
    expect(fake.checks()).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('wakes on a published set it has not seen: not on an older one, nor on a message that is no generation', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'messages');
    const early = track(event.wait());
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    // Before its first check's reply a wait cannot tell sets apart: any message wakes it.
    fake.subscriptions[0]?.onMessage('not a generation');
    await flushMicrotasks();
    expect(early.status).toBe('fulfilled');
    fake.lastCheck().resolve(notSet(0));
    await flushMicrotasks();

    // A wait on an event never set knows generation 0; a stray message on the channel (another
    // client publishing there) is no set.
    const first = track(event.wait());
    fake.lastCheck().resolve(notSet(0));
    await flushMicrotasks();
    fake.subscriptions[0]?.onMessage('not a generation');
    fake.subscriptions[0]?.onMessage('0');
    await flushMicrotasks();
    expect(first.status).toBe('pending');

    // A check that finds a later generation than a wait knows wakes it: a set and clear it missed.
    const second = track(event.wait());
    expect(fake.checks()).toHaveLength(3);
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('pending');
    // The second knows 5: a message of 5 (or older) is a set it has seen already.
    fake.subscriptions[0]?.onMessage('5');
    fake.subscriptions[0]?.onMessage('4');
    await flushMicrotasks();
    expect(second.status).toBe('pending');
    fake.subscriptions[0]?.onMessage('6');
    await flushMicrotasks();
    expect(second.status).toBe('fulfilled');
    expect(fake.checks()).toHaveLength(3);
    expect(event.waiterCount).toBe(0);
  });

  it('sends no check for a wait that gave up before its subscription was confirmed', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'gave-up');
    const controller = new AbortController();
    const waiting = event.wait({ signal: controller.signal });
    const reason = new Error('no longer needed');
    controller.abort(reason);
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    expect(fake.evals).toHaveLength(0);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
    expect(fake.evals).toHaveLength(0);
  });

  it('shares one subscription per channel and connection among events of the same name', async () => {
    const fake = scripted();
    const other = scripted();
    const controller = new AbortController();
    const { signal } = controller;
    const waits = [
      new RedisEvent(fake.redis, 'shared').wait({ signal }),
      new RedisEvent(fake.redis, 'shared').wait({ signal }),
      new RedisEvent(fake.redis, 'shared').wait({ signal }),
      new RedisEvent(fake.redis, 'not-shared').wait({ signal }),
      new RedisEvent(other.redis, 'shared').wait({ signal }),
    ];
    expect(fake.subscriptions.map((s) => s.channel)).toEqual(['waitsafe:{shared}:set', 'waitsafe:{not-shared}:set']);
    expect(other.subscriptions.map((s) => s.channel)).toEqual(['waitsafe:{shared}:set']);
    for (const s of [...fake.subscriptions, ...other.subscriptions]) s.confirm();
    controller.abort();
    await Promise.allSettled(waits);
    await nextMacrotask();
    expect([...fake.subscriptions, ...other.subscriptions].map((s) => s.unsubscribes)).toEqual([1, 1, 1]);
  });

  it('keeps the subscription while a wait needs it, also one that comes before the idle sweep', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'kept');
    const controller = new AbortController();
    const leaving = event.wait({ signal: controller.signal });
    const staying = track(event.wait());
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    controller.abort();
    await rejectionOf(leaving);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    fake.subscriptions[0]?.onMessage('6');
    await flushMicrotasks();
    expect(staying.status).toBe('fulfilled');

    // The last wait left: the channel is released by the next macrotask, unless a wait comes first.
    const again = new AbortController();
    const gone = event.wait({ signal: again.signal });
    again.abort();
    await rejectionOf(gone);
    const late = track(event.wait());
    await nextMacrotask();
    expect(fake.subscriptions).toHaveLength(1);
    expect(fake.subscriptions[0]?.unsubscribes).toBe(0);
    // Still subscribed: a set reaches it.
    fake.subscriptions[0]?.onMessage('7');
    await flushMicrotasks();
    expect(late.status).toBe('fulfilled');
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
  });

  it('rejects every pending wait with the error when the subscription is lost, unsubscribing once', async () => {
    const fake = scripted();
    const a = new RedisEvent(fake.redis, 'lost');
    const b = new RedisEvent(fake.redis, 'lost');
    const waits = [track(a.wait()), track(b.wait({ timeout: 60_000 }))];
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    // One check per event.
    expect(fake.checks()).toHaveLength(2);
    for (const check of fake.checks()) check.resolve(notSet(5));
    await flushMicrotasks();
    waits.push(track(a.wait()));
    fake.lastCheck().resolve(notSet(5));
    await flushMicrotasks();
    expect(fake.checks()).toHaveLength(3);
    const error = new Error('connection lost');
    fake.subscriptions[0]?.onError(error);
    await flushMicrotasks();
    expect(waits.map((w) => [w.status, w.reason])).toEqual([
      ['rejected', error],
      ['rejected', error],
      ['rejected', error],
    ]);
    expect([a.waiterCount, b.waiterCount]).toEqual([0, 0]);
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
    // An adapter that reports the loss twice changes nothing.
    fake.subscriptions[0]?.onError(error);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
    // No poll timer left (nor the wait's timeout, by the next macrotask).
    expect(vi.getTimerCount()).toBe(0);

    // The next wait subscribes again.
    const next = track(a.wait());
    expect(fake.subscriptions).toHaveLength(2);
    fake.subscriptions[1]?.confirm();
    await flushMicrotasks();
    fake.lastCheck().resolve(isSet(6));
    await flushMicrotasks();
    expect(next.status).toBe('fulfilled');
  });

  it('unsubscribes once when the subscription is lost around its release', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'lost-idle');
    const error = new Error('connection lost');

    // Lost after the release: nothing more to do.
    const first = new AbortController();
    const waiting = event.wait({ signal: first.signal });
    fake.subscriptions[0]?.confirm();
    first.abort();
    await rejectionOf(waiting);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);
    fake.subscriptions[0]?.onError(error);
    await nextMacrotask();
    expect(fake.subscriptions[0]?.unsubscribes).toBe(1);

    // Lost after the last wait left but before the idle sweep.
    const second = new AbortController();
    const again = event.wait({ signal: second.signal });
    expect(fake.subscriptions).toHaveLength(2);
    fake.subscriptions[1]?.confirm();
    second.abort();
    await rejectionOf(again);
    fake.subscriptions[1]?.onError(error);
    await nextMacrotask();
    await nextMacrotask();
    expect(fake.subscriptions[1]?.unsubscribes).toBe(1);
  });

  it('rejects a wait with the error when it cannot subscribe, whether the promise rejects or subscribe throws', async () => {
    const fake = scripted();
    const refused = new Error('subscribe refused');
    const waiting = track(new RedisEvent(fake.redis, 'refused').wait());
    fake.subscriptions[0]?.refuse(refused);
    await flushMicrotasks();
    expect(waiting.status).toBe('rejected');
    expect(waiting.reason).toBe(refused);
    expect(vi.getTimerCount()).toBe(0);

    const thrown = new Error('subscribe threw');
    const throwing: RedisLike = {
      eval: () => new Promise(() => {}),
      subscribe: () => {
        throw thrown;
      },
    };
    const event = new RedisEvent(throwing, 'thrown');
    expect(await rejectionOf(callWithoutThrowing(() => event.wait()))).toBe(thrown);
    expect(event.waiterCount).toBe(0);
  });

  it('rejects the waits a check was sent for with its error', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'check-fails');
    const waits = [track(event.wait()), track(event.wait())];
    fake.subscriptions[0]?.confirm();
    await flushMicrotasks();
    const error = new Error('READONLY');
    fake.lastCheck().reject(error);
    await flushMicrotasks();
    expect(waits.map((w) => [w.status, w.reason])).toEqual([
      ['rejected', error],
      ['rejected', error],
    ]);
    expect(event.waiterCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timeout: 0 checks once: true if set, a TimeoutError if not, the reason if the signal aborts meanwhile', async () => {
    const fake = scripted();
    const event = new RedisEvent(fake.redis, 'once');
    const set = event.wait({ timeout: 0 });
    fake.lastCheck().resolve(isSet(3));
    expect(await set).toBe(true);

    const clear = event.wait({ timeout: 0 });
    fake.lastCheck().resolve(notSet(3));
    const error = await rejectionOf(clear);
    expectTimeoutError(error);
    expect(error.message).toBe('RedisEvent "once": wait() timed out after 0 ms');

    const controller = new AbortController();
    const aborted = event.wait({ timeout: 0, signal: controller.signal });
    const reason = new Error('aborted meanwhile');
    controller.abort(reason);
    fake.lastCheck().resolve(isSet(3));
    expect(await rejectionOf(aborted)).toBe(reason);
    // None of them subscribed or counted as a waiter.
    expect(fake.subscriptions).toHaveLength(0);
    expect(event.waiterCount).toBe(0);
  });
});

describe('script replies and errors, over a RedisLike', () => {
  it('names the kind that holds the name in the TypeError', async () => {
    const failing = (message: string): RedisLike => ({
      eval: () => Promise.reject(new Error(message)),
      subscribe: () => new Promise(() => {}),
    });
    const lock = new RedisEvent(failing('WAITSAFE_KIND RedisLock'), 'n');
    const error = await rejectionOf(lock.set());
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'RedisEvent "n": the name "n" is in use by a RedisLock on this Redis; a name can have one kind only',
    );
    // The kind is what follows the marker, whatever the client puts around the reply.
    const semaphore = new RedisEvent(failing('ERR user_script:3: WAITSAFE_KIND RedisSemaphore/3 \n'), 'n');
    expect(((await rejectionOf(semaphore.isSet())) as Error).message).toBe(
      'RedisEvent "n": the name "n" is in use by a RedisSemaphore of 3 permits on this Redis; a name can have one kind only',
    );
    const event = new RedisLock(failing('WAITSAFE_KIND RedisEvent'), 'n');
    expect(((await rejectionOf(event.tryAcquire())) as Error).message).toBe(
      'RedisLock "n": the name "n" is in use by a RedisEvent on this Redis; a name can have one kind only',
    );
  });

  it('passes other errors on as they are, null and synchronous throws included', async () => {
    const rejectingNull = new RedisEvent(
      { eval: () => Promise.reject(null), subscribe: () => new Promise(() => {}) },
      'n',
    );
    expect(await rejectionOf(rejectingNull.clear())).toBe(null);
    const error = new Error('client closed');
    const throwing = new RedisEvent(
      {
        eval: () => {
          throw error;
        },
        subscribe: () => new Promise(() => {}),
      },
      'n',
    );
    expect(await rejectionOf(callWithoutThrowing(() => throwing.isSet()))).toBe(error);
    const throwingKind = new RedisEvent(
      {
        eval: () => {
          throw new Error('WAITSAFE_KIND RedisLock');
        },
        subscribe: () => new Promise(() => {}),
      },
      'n',
    );
    expect(await rejectionOf(callWithoutThrowing(() => throwingKind.set()))).toBeInstanceOf(TypeError);
  });

  it('takes a reply that is not an array as a one-element reply', async () => {
    const scalar = (reply: unknown): RedisLike => ({
      eval: () => Promise.resolve(reply),
      subscribe: () => new Promise(() => {}),
    });
    expect(await new RedisEvent(scalar(1), 'n').isSet()).toBe(true);
    expect(await new RedisEvent(scalar(0), 'n').isSet()).toBe(false);
  });
});

describe('constructor arguments: the messages', () => {
  const redis: RedisLike = { eval: () => new Promise(() => {}), subscribe: () => new Promise(() => {}) };
  const message = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      return `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
    return expect.fail('did not throw');
  };

  it('says what the redis argument was', () => {
    const must = 'TypeError: The "redis" argument must be a RedisLike (nodeRedis(client) or ioredis(client)), got';
    expect(message(() => new RedisEvent(null as never, 'x'))).toBe(`${must} null`);
    expect(message(() => new RedisEvent(undefined as never, 'x'))).toBe(`${must} undefined`);
    expect(message(() => new RedisEvent({ eval: () => {} } as never, 'x'))).toBe(`${must} object`);
    // A function with the two methods is not a RedisLike either: one must be an object.
    const fn = Object.assign(() => {}, { eval: redis.eval, subscribe: redis.subscribe });
    expect(message(() => new RedisEvent(fn as never, 'x'))).toBe(`${must} function`);
  });

  it('says what the name was', () => {
    const must = 'TypeError: The "name" argument must be a non-empty string, got';
    expect(message(() => new RedisEvent(redis, ''))).toBe(`${must} an empty string`);
    expect(message(() => new RedisEvent(redis, null as never))).toBe(`${must} null`);
    expect(message(() => new RedisEvent(redis, undefined as never))).toBe(`${must} undefined`);
    expect(message(() => new RedisEvent(redis, 5 as never))).toBe(`${must} number`);
  });

  it('says the range of the lease', () => {
    expect(message(() => new RedisLock(redis, 'x', { lease: 2 ** 31 }))).toBe(
      'RangeError: The "lease" option must be an integer from 100 to 2147483647, got 2147483648',
    );
  });
});

describe('ids and timers on other hosts', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  /** A fresh load of waitsafe/redis (as a new process has), and the ids its lock sends. */
  const freshLoad = async () => {
    vi.resetModules();
    const fresh = (await import('../src/redis/index.js')) as typeof import('../src/redis/index.js');
    const sent: string[][] = [];
    const recording: RedisLike = {
      eval: (_script, _keys, args) => {
        sent.push(args);
        return new Promise(() => {});
      },
      subscribe: () => new Promise(() => {}),
    };
    const lock = new fresh.RedisLock(recording, 'ids');
    void lock.tryAcquire();
    void lock.tryAcquire();
    // ACQUIRE's own arguments start after the four every permit script takes.
    const ids = sent.map((args) => args[4] ?? '');
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}:[0-9a-z]+$/);
    expect(ids[0]).not.toBe(ids[1]);
    const processes = new Set(ids.map((id) => id.split(':')[0]));
    expect(processes.size).toBe(1);
    return { fresh, recording, processPart: [...processes][0] };
  };

  it('draws the process part of ids from Web Crypto, and checks the lease range, in a fresh load', async () => {
    const bytes = [0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x0a, 0xff];
    vi.stubGlobal('crypto', {
      getRandomValues: (array: Uint8Array) => {
        array.set(bytes);
        return array;
      },
    });
    const { fresh, recording, processPart } = await freshLoad();
    expect(processPart).toBe('deadbeef00010aff');
    expect(() => new fresh.RedisLock(recording, 'x', { lease: 2 ** 31 - 1 })).not.toThrow();
    expect(() => new fresh.RedisLock(recording, 'x', { lease: 2 ** 31 })).toThrow(RangeError);
  });

  it('draws random ids without Web Crypto', async () => {
    vi.stubGlobal('crypto', undefined);
    const { processPart } = await freshLoad();
    // Eight random bytes are never all zero in practice (a chance of 2^-64).
    expect(processPart).not.toBe('0000000000000000');
  });

  it('waits on hosts whose setTimeout returns a number, or nothing', async () => {
    const real = { set: globalThis.setTimeout, clear: globalThis.clearTimeout };
    for (const handles of ['number', 'none'] as const) {
      const timers = new Map<number, ReturnType<typeof setTimeout>>();
      let next = 0;
      vi.stubGlobal('setTimeout', (callback: () => void, ms: number) => {
        const id = ++next;
        timers.set(id, real.set(callback, ms));
        return handles === 'number' ? id : undefined;
      });
      vi.stubGlobal('clearTimeout', (id: number | undefined) => {
        if (id !== undefined) real.clear(timers.get(id));
      });
      const fake = scripted();
      const event = new RedisEvent(fake.redis, `host-${handles}`);
      const waiting = track(callWithoutThrowing(() => event.wait()));
      expect(timers.size).toBe(1);
      fake.subscriptions[0]?.confirm();
      await flushMicrotasks();
      fake.lastCheck().resolve(isSet(1));
      await flushMicrotasks();
      expect(waiting.status).toBe('fulfilled');
      vi.unstubAllGlobals();
      for (const timer of timers.values()) real.clear(timer);
    }
  });
});

describe.skipIf(!hasRedis)('RedisEvent against redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  let client: Redis;
  let redis: RedisLike;
  let names = 0;
  const fresh = (what: string) => `test:${what}:${++names}:${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    admin.on('error', () => {});
    client = new Redis(server.url);
    client.on('error', () => {});
    redis = ioredis(client);
  }, 30_000);

  afterAll(async () => {
    await client?.quit();
    await admin?.quit();
    await server?.stop();
  });

  it('keeps its kind, flag and generation counter under waitsafe:{name}:…', async () => {
    const name = fresh('keys');
    const key = (part: string) => `waitsafe:{${name}}:${part}`;
    const event = new RedisEvent(redis, name);
    await event.set();
    const generation = await admin.get(key('set'));
    expect(generation).toMatch(/^\d+$/);
    expect(await admin.get(key('token'))).toBe(generation);
    expect(await admin.get(key('kind'))).toBe('RedisEvent');
    await event.set();
    expect(await admin.get(key('set'))).toBe(generation);
    await event.clear();
    expect(await admin.exists(key('set'), key('kind'))).toBe(0);
    // The counter stays, so that generations never go back.
    expect(await admin.get(key('token'))).toBe(generation);
    await event.set();
    expect(Number(await admin.get(key('set')))).toBeGreaterThan(Number(generation));
    await event.clear();
  });

  it('names the kind that holds the name, as the server reports it', async () => {
    const name = fresh('kinds');
    const event = new RedisEvent(redis, name);
    await event.set();
    expect(((await rejectionOf(new RedisLock(redis, name).tryAcquire())) as Error).message).toBe(
      `RedisLock ${JSON.stringify(name)}: the name ${JSON.stringify(name)} is in use by a RedisEvent on this Redis; a name can have one kind only`,
    );
    await event.clear();
    const lease = await new RedisSemaphore(redis, name, 3).acquire();
    expect(((await rejectionOf(event.set())) as Error).message).toBe(
      `RedisEvent ${JSON.stringify(name)}: the name ${JSON.stringify(name)} is in use by a RedisSemaphore of 3 permits on this Redis; a name can have one kind only`,
    );
    await lease.release();
    const held = await new RedisLock(redis, name).acquire();
    expect(((await rejectionOf(event.wait({ timeout: 0 }))) as Error).message).toBe(
      `RedisEvent ${JSON.stringify(name)}: the name ${JSON.stringify(name)} is in use by a RedisLock on this Redis; a name can have one kind only`,
    );
    await held.release();
  });

  it('works end to end from a fresh load of waitsafe/redis (as a new process has)', async () => {
    // Everything waitsafe/redis builds while it loads (its scripts, its option names, the kind
    // marker) is built again here, and every script runs on the server.
    vi.resetModules();
    const w = (await import('../src/redis/index.js')) as typeof import('../src/redis/index.js');
    const own = w.ioredis(client);
    const name = fresh('fresh-load');
    const holders = `waitsafe:{${name}}:holders`;
    // ACQUIRE (try and wait), the grant message, RENEW, LEAVE (release and giving up), POLL.
    const semaphore = new w.RedisSemaphore(own, name, 2, { lease: 1_500, maxWaiters: 10 });
    const first = await semaphore.acquire({ weight: 2 });
    expect(first.token).toBeGreaterThan(0n);
    expect(await semaphore.tryAcquire()).toBeUndefined();
    const waiting = semaphore.acquire({ timeout: 5_000 });
    const controller = new AbortController();
    const givingUp = semaphore.acquire({ signal: controller.signal });
    // The one holder's expiry (its score), which a renewal a third of the lease on moves on.
    const expiryNow = async () => Number((await admin.zrange(holders, 0, -1, 'WITHSCORES'))[1]);
    const expiry = await expiryNow();
    const deadline = Date.now() + 5_000;
    while ((await expiryNow()) === expiry) {
      expect(Date.now(), 'renewed within 5 s').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    controller.abort('gave up');
    expect(await rejectionOf(givingUp)).toBe('gave up');
    expect(await first.release()).toBe(true);
    const second = await waiting;
    expect(second.token).toBeGreaterThan(first.token);
    expect(await second.release()).toBe(true);
    expect(await admin.exists(holders, `waitsafe:{${name}}:queue`)).toBe(0);
    // A lock, and the kind check against the semaphore's name while it is held.
    const held = await semaphore.acquire();
    expect(((await rejectionOf(new w.RedisLock(own, name).acquire())) as Error).message).toBe(
      `RedisLock ${JSON.stringify(name)}: the name ${JSON.stringify(name)} is in use by a RedisSemaphore of 2 permits on this Redis; a name can have one kind only`,
    );
    await held.release();
    // POLL: a waiter whose grant messages are lost finds its grant by polling.
    const deaf: RedisLike = {
      eval: (script, keys, args) => own.eval(script, keys, args),
      subscribe: (channel, _onMessage, onError) => own.subscribe(channel, () => {}, onError),
    };
    const polled = fresh('fresh-poll');
    const before = await new w.RedisLock(own, polled).acquire();
    const byPoll = new w.RedisLock(deaf, polled).acquire({ timeout: 10_000 });
    const queued = Date.now() + 5_000;
    while ((await admin.zcard(`waitsafe:{${polled}}:queue`)) !== 1) {
      expect(Date.now(), 'queued within 5 s').toBeLessThan(queued);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await before.release();
    const after = await byPoll;
    expect(after.token).toBeGreaterThan(before.token);
    await after.release();
    // An error of the server that is not about kinds is passed on as it is.
    const broken = fresh('wrong-type');
    await admin.set(`waitsafe:{${broken}}:holders`, 'not a sorted set');
    expect(((await rejectionOf(new w.RedisLock(own, broken).tryAcquire())) as Error).message).toMatch(/WRONGTYPE/);
    // EVENT_SET, EVENT_CHECK (a wait) and EVENT_CLEAR.
    const event = new w.RedisEvent(own, fresh('fresh-event'));
    const woken = event.wait({ timeout: 5_000 });
    await event.set();
    expect(await woken).toBe(true);
    expect(await event.isSet()).toBe(true);
    await event.clear();
    expect(await event.isSet()).toBe(false);
  }, 20_000);
});
