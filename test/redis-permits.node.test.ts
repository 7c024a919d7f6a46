/**
 * The local side of `RedisLock` and `RedisSemaphore` (`src/redis/permits.ts`, `lease.ts`): what
 * each process sends to Redis and when, how it reads the replies and grant messages, and how its
 * leases are renewed and lost.
 *
 * Most tests drive the primitives over a scripted {@link RedisLike} (a public interface: any
 * client can be adapted to it) under fake timers, so that the order of replies, messages and
 * subscription events, and the time at which renewals and polls go out, are exact and the tests
 * take no real time. Each reply follows the documented protocol of the scripts (`scripts.ts`).
 * The last group checks what a real `redis-server` holds.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Lease,
  LeaseLostError,
  nodeRedis,
  type RedisLike,
  RedisLock,
  RedisSemaphore,
} from '../src/redis/index.js';
import { ACQUIRE, LEAVE, POLL, RENEW } from '../src/redis/scripts.js';
import { expectTimeoutError, flushMicrotasks, rejectionOf, type Tracked, track } from './helpers.js';
import { hasRedis, type RedisServer, startRedis } from './redis-server.js';

type ScriptName = 'ACQUIRE' | 'LEAVE' | 'POLL' | 'RENEW';
const SCRIPTS = new Map<string, ScriptName>([
  [ACQUIRE, 'ACQUIRE'],
  [LEAVE, 'LEAVE'],
  [POLL, 'POLL'],
  [RENEW, 'RENEW'],
]);

/** One script call the fake received. */
interface Sent {
  readonly script: ScriptName;
  readonly keys: string[];
  readonly args: string[];
  /** ARGV[5..]: the script's own arguments (ARGV[1..4] are channel, kind, permits, heartbeat ttl). */
  readonly own: string[];
  reply(value: unknown[]): void;
  fail(error: unknown): void;
}

/** One subscription the fake received. */
interface Subscription {
  readonly channel: string;
  /** The server confirms it: `subscribe()` resolves. */
  confirm(): void;
  /** A message published on it. */
  message(text: string): void;
  /** The subscription is lost later (`onError`). */
  lose(error: unknown): void;
  unsubscribed: boolean;
}

/**
 * A RedisLike whose replies the test gives. `answer` may reply at once (or throw, as a client
 * that throws synchronously would); else the call waits for the test.
 */
function scripted(answer?: (sent: Sent) => void) {
  const sent: Sent[] = [];
  const subscriptions: Subscription[] = [];
  const redis: RedisLike = {
    eval(script, keys, args) {
      const name = SCRIPTS.get(script);
      if (name === undefined) throw new Error('not a permit script');
      let reply: (value: unknown[]) => void = () => {};
      let fail: (error: unknown) => void = () => {};
      const promise = new Promise<unknown>((resolve, reject) => {
        reply = resolve;
        fail = reject;
      });
      const call: Sent = { script: name, keys, args, own: args.slice(4), reply, fail };
      sent.push(call);
      answer?.(call);
      return promise;
    },
    subscribe(channel, onMessage, onError) {
      return new Promise((resolve) => {
        const subscription: Subscription = {
          channel,
          confirm: () =>
            resolve(async () => {
              subscription.unsubscribed = true;
            }),
          message: onMessage,
          lose: (error) => onError?.(error),
          unsubscribed: false,
        };
        subscriptions.push(subscription);
      });
    },
  };
  return {
    redis,
    sent,
    subscriptions,
    /** The calls of one script, in order. */
    of: (script: ScriptName) => sent.filter((call) => call.script === script),
    /** The last call of one script. */
    last(script: ScriptName): Sent {
      const calls = sent.filter((call) => call.script === script);
      const call = calls[calls.length - 1];
      if (call === undefined) expect.fail(`no ${script} was sent`);
      return call;
    },
  };
}

/** Lets the replies given so far reach the primitive (a few promise hops). */
async function settle(): Promise<void> {
  await flushMicrotasks();
  await flushMicrotasks();
}

/** Lets `ms` of fake time pass, running the timers and the promise jobs they start. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

let names = 0;
const fresh = (what: string) => `test:permits:${what}:${++names}`;

/** The process part of an id: grants to it are published on `…:grant:<process>`. */
const processOf = (id: string) => id.slice(0, id.indexOf(':'));

describe('RedisLock and RedisSemaphore over a scripted RedisLike', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `lock.acquire()` and answers its ACQUIRE with "queued". */
  async function queued(fake: ReturnType<typeof scripted>, start: () => Promise<Lease>) {
    const count = fake.of('ACQUIRE').length;
    const wait = track(start());
    const acquire = fake.of('ACQUIRE')[count];
    if (acquire === undefined) expect.fail('no ACQUIRE was sent');
    acquire.reply([0]);
    await settle();
    return { wait, id: acquire.own[0] as string };
  }

  /** The lease a tracked wait resolved with. */
  function leaseOf(wait: Tracked<Lease>): Lease {
    expect(wait.status).toBe('fulfilled');
    return wait.value as Lease;
  }

  describe('what it sends', () => {
    it('sends ACQUIRE with the kind, the permits and the mode (`wait` for acquire, `try` for tryAcquire)', async () => {
      const fake = scripted();
      const name = fresh('args');
      const lock = new RedisLock(fake.redis, name, { lease: 2_000 });
      const waiting = track(lock.acquire());
      const trying = track(lock.tryAcquire());
      const [wait, attempt] = fake.of('ACQUIRE') as [Sent, Sent];
      const keys = ['kind', 'holders', 'queue', 'alive', 'info', 'token'].map((part) => `waitsafe:{${name}}:${part}`);
      expect(wait.keys).toEqual(keys);
      expect(wait.args).toEqual([
        `waitsafe:{${name}}:grant`,
        'RedisLock',
        '1',
        '5000',
        wait.own[0],
        '1',
        '2000',
        'wait',
      ]);
      expect(attempt.args).toEqual([
        `waitsafe:{${name}}:grant`,
        'RedisLock',
        '1',
        '5000',
        attempt.own[0],
        '1',
        '2000',
        'try',
      ]);
      const semaphore = new RedisSemaphore(fake.redis, fresh('args-s'), 3);
      track(semaphore.acquire({ weight: 2 }));
      expect(fake.last('ACQUIRE').args.slice(1, 3)).toEqual(['RedisSemaphore/3', '3']);
      expect(fake.last('ACQUIRE').own.slice(1)).toEqual(['2', '30000', 'wait']);
      attempt.reply([0]);
      await settle();
      expect(trying.status).toBe('fulfilled');
      expect(trying.value).toBeUndefined();
      wait.reply([0]);
      await settle();
      expect(waiting.status).toBe('pending');
    });

    it('polls once the subscription is confirmed if it was not when ACQUIRE went out, and only then', async () => {
      const fake = scripted();
      const name = fresh('poll-after-subscribe');
      const lock = new RedisLock(fake.redis, name);
      const a = await queued(fake, () => lock.acquire());
      expect(fake.subscriptions.map((s) => s.channel)).toEqual([`waitsafe:{${name}}:grant:${processOf(a.id)}`]);
      expect(fake.of('POLL')).toHaveLength(0);
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      // A grant published before the subscription took effect is found by this POLL.
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[a.id]]);
      fake.last('POLL').reply([0, 0, 0]);
      await settle();
      expect(fake.of('POLL')).toHaveLength(1);
      // The subscription is confirmed now: a second wait needs no POLL of its own.
      const b = await queued(fake, () => lock.acquire());
      expect(fake.of('POLL')).toHaveLength(1);
      expect(fake.subscriptions).toHaveLength(1);
      // The heartbeat, a poll interval later, covers both.
      await advance(1_000);
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[a.id], [a.id, b.id]]);
      fake.last('POLL').reply([0, 0, 0, 4, 30_000]);
      await settle();
      expect(leaseOf(b.wait).token).toBe(4n);
      expect(a.wait.status).toBe('pending');
    });

    it('runs one POLL at a time: a poll asked for meanwhile goes out after it, with every queued wait', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('poll-again'));
      const a = track(lock.acquire());
      const b = track(lock.acquire());
      const [acquireA, acquireB] = fake.of('ACQUIRE') as [Sent, Sent];
      acquireA.reply([0]);
      await settle();
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      expect(fake.of('POLL').map((call) => call.own)).toEqual([acquireA.own.slice(0, 1)]);
      // B was sent before the subscription was confirmed: it needs a POLL too, but one is in flight.
      acquireB.reply([0]);
      await settle();
      expect(fake.of('POLL')).toHaveLength(1);
      (fake.of('POLL')[0] as Sent).reply([0, 0, 0]);
      await settle();
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[acquireA.own[0]], [acquireA.own[0], acquireB.own[0]]]);
      // B's grant was published before the subscription: this POLL finds it.
      (fake.of('POLL')[1] as Sent).reply([0, 0, 0, 9, 5_000]);
      await settle();
      expect(leaseOf(b).token).toBe(9n);
      expect(a.status).toBe('pending');
      expect(fake.of('POLL')).toHaveLength(2);
    });

    it('polls for queued waits only, and goes on polling after a wait in flight gives up', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('poll-queued-only'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const controller = new AbortController();
      const b = track(lock.acquire({ signal: controller.signal }));
      const acquireB = fake.last('ACQUIRE');
      await advance(1_000);
      // B's ACQUIRE is in flight: it is not queued yet, so the heartbeat is A's alone.
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[a.id], [a.id]]);
      fake.last('POLL').reply([0, 0, 0]);
      await settle();
      controller.abort();
      await settle();
      expect(b.status).toBe('rejected');
      // LEAVE waits for ACQUIRE's reply, so that it follows it.
      expect(fake.of('LEAVE')).toHaveLength(0);
      acquireB.reply([0]);
      await settle();
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[acquireB.own[0]]]);
      // A is still queued: its heartbeat goes on.
      await advance(1_000);
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[a.id], [a.id], [a.id]]);
      expect(a.wait.status).toBe('pending');
    });

    it('stops the poll timer once no wait is queued, even with an ACQUIRE in flight', async () => {
      const fake = scripted((call) => {
        if (call.script === 'LEAVE') call.reply([1]);
      });
      const lock = new RedisLock(fake.redis, fresh('poll-stops'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const b = track(lock.acquire());
      const acquireB = fake.last('ACQUIRE');
      (fake.subscriptions[0] as Subscription).message(`${a.id} 5`);
      await settle();
      expect(await leaseOf(a.wait).release()).toBe(true);
      // Only B is pending, and it is not queued: the timer fires once more, polls nothing, and stops.
      await advance(1_000);
      expect(fake.of('POLL')).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      acquireB.reply([0]);
      await settle();
      await advance(1_000);
      expect(fake.of('POLL').map((call) => call.own)).toEqual([[a.id], [acquireB.own[0]]]);
      expect(b.status).toBe('pending');
    });

    it('queues again, at the tail, a wait whose entry expired, and keeps polling for it', async () => {
      const fake = scripted((call) => {
        if (call.script === 'LEAVE') call.reply([1]);
      });
      const lock = new RedisLock(fake.redis, fresh('requeue'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const b = track(lock.acquire()); // in flight throughout
      await advance(1_000);
      fake.last('POLL').reply([0, -1, 0]);
      await settle();
      const again = fake.last('ACQUIRE');
      expect(fake.of('ACQUIRE')).toHaveLength(3);
      expect(again.own).toEqual([a.id, '1', '30000', 'wait']);
      again.reply([0]);
      await settle();
      await advance(1_000);
      expect(fake.last('POLL').own).toEqual([a.id]);
      fake.last('POLL').reply([0, 0, 0]);
      (fake.subscriptions[0] as Subscription).message(`${a.id} 8`);
      await settle();
      expect(leaseOf(a.wait).token).toBe(8n);
      expect(await leaseOf(a.wait).release()).toBe(true);
      // Nothing is queued any more (B is in flight): the timer stops after one more tick.
      await advance(1_000);
      expect(vi.getTimerCount()).toBe(0);
      expect(b.status).toBe('pending');
    });

    it('queues again a wait whose entry expired, granted by the new ACQUIRE at once: no poll is left', async () => {
      const fake = scripted((call) => {
        if (call.script === 'LEAVE') call.reply([1]);
      });
      const lock = new RedisLock(fake.redis, fresh('requeue-granted'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const b = track(lock.acquire());
      await advance(1_000);
      fake.last('POLL').reply([0, -1, 0]);
      await settle();
      fake.last('ACQUIRE').reply([3]);
      await settle();
      expect(leaseOf(a.wait).token).toBe(3n);
      await leaseOf(a.wait).release();
      await advance(1_000);
      expect(fake.of('POLL')).toHaveLength(2);
      expect(vi.getTimerCount()).toBe(0);
      expect(b.status).toBe('pending');
    });

    it('does not queue again a wait that gave up while its POLL was in flight', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('poll-gave-up'));
      const controller = new AbortController();
      const a = await queued(fake, () => lock.acquire({ signal: controller.signal }));
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      const poll = fake.last('POLL');
      controller.abort();
      await settle();
      expect(a.wait.status).toBe('rejected');
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[a.id]]);
      poll.reply([0, -1, 0]);
      await settle();
      expect(fake.of('ACQUIRE')).toHaveLength(1);
    });

    it('sends no POLL when the wait that needed it gave up before the subscription was confirmed', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('no-empty-poll'));
      const controller = new AbortController();
      const a = await queued(fake, () => lock.acquire({ signal: controller.signal }));
      controller.abort();
      await settle();
      expect(a.wait.status).toBe('rejected');
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      await advance(1_000);
      expect(fake.of('POLL')).toHaveLength(0);
      expect((fake.subscriptions[0] as Subscription).unsubscribed).toBe(true);
    });

    it('ignores the "queued" reply of an ACQUIRE whose grant message came first, and leaves nothing', async () => {
      const fake = scripted((call) => {
        if (call.script === 'LEAVE') call.reply([1]);
      });
      const lock = new RedisLock(fake.redis, fresh('overtaken'));
      const a = await queued(fake, () => lock.acquire());
      const subscription = fake.subscriptions[0] as Subscription;
      subscription.confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const b = track(lock.acquire());
      const acquireB = fake.last('ACQUIRE');
      // B was queued and granted by a release before its reply came back.
      subscription.message(`${acquireB.own[0]} 6`);
      subscription.message(`${a.id} 7`);
      await settle();
      expect(leaseOf(b).token).toBe(6n);
      expect(leaseOf(a.wait).token).toBe(7n);
      acquireB.reply([0]);
      await settle();
      await leaseOf(a.wait).release();
      await leaseOf(b).release();
      await advance(2_000);
      expect(fake.subscriptions).toHaveLength(1);
      expect(subscription.unsubscribed).toBe(true);
      expect(fake.of('POLL')).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('failures', () => {
    it('rejects the queued waits with the error of a lost subscription, removes them, and subscribes again for the next', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('sub-lost'));
      const a = await queued(fake, () => lock.acquire());
      const first = fake.subscriptions[0] as Subscription;
      first.confirm();
      await settle();
      fake.last('POLL').reply([0, 0, 0]);
      const b = track(lock.acquire()); // in flight: not affected
      const acquireB = fake.last('ACQUIRE');
      const error = new Error('connection lost');
      first.lose(error);
      await settle();
      expect(a.wait.status).toBe('rejected');
      expect(a.wait.reason).toBe(error);
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[a.id]]);
      expect(b.status).toBe('pending');
      expect(lock.waiterCount).toBe(1);
      acquireB.reply([0]);
      await settle();
      expect(fake.subscriptions).toHaveLength(2);
      (fake.subscriptions[1] as Subscription).message(`${acquireB.own[0]} 3`);
      await settle();
      expect(leaseOf(b).token).toBe(3n);
    });

    it('rejects the queued waits with the error of a failed POLL, and removes them', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('poll-failed'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      const error = new Error('timeout');
      fake.last('POLL').fail(error);
      await settle();
      expect(a.wait.status).toBe('rejected');
      expect(a.wait.reason).toBe(error);
      expect(lock.waiterCount).toBe(0);
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[a.id]]);
    });

    it('rejects a wait whose ACQUIRE failed, sending nothing more', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('acquire-failed'));
      const wait = track(lock.acquire());
      const error = new Error('refused');
      fake.last('ACQUIRE').fail(error);
      await settle();
      expect(wait.reason).toBe(error);
      await advance(2_000);
      expect(fake.sent).toHaveLength(1);
    });
  });

  describe('timeout: 0 (one round trip)', () => {
    it('rejects with a TimeoutError naming the primitive when the lock is taken', async () => {
      const fake = scripted();
      const name = fresh('timeout0');
      const attempt = new RedisLock(fake.redis, name).acquire({ timeout: 0 });
      fake.last('ACQUIRE').reply([0]);
      const error = await rejectionOf(attempt);
      expectTimeoutError(error);
      expect(error.message).toBe(`RedisLock ${JSON.stringify(name)}: acquire() timed out after 0 ms`);
    });

    it('rejects with the reason of a signal that aborts before the reply, releasing what it took', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('timeout0-abort'));
      const controller = new AbortController();
      const attempt = lock.acquire({ timeout: 0, signal: controller.signal });
      const acquire = fake.last('ACQUIRE');
      expect(acquire.own[3]).toBe('try');
      controller.abort('stop');
      acquire.reply([12]);
      expect(await rejectionOf(attempt)).toBe('stop');
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[acquire.own[0]]]);
      // Not taken: nothing to release.
      const other = new AbortController();
      const second = lock.acquire({ timeout: 0, signal: other.signal });
      other.abort('again');
      fake.last('ACQUIRE').reply([0]);
      expect(await rejectionOf(second)).toBe('again');
      expect(fake.of('LEAVE')).toHaveLength(1);
      expect(String(lock)).toBe(`RedisLock ${JSON.stringify(lock.name)} [waiters:0]`);
    });
  });

  describe('leases', () => {
    it('LeaseLostError has its name and a default message; a lease shows as Lease', async () => {
      const error = new LeaseLostError();
      expect(error.name).toBe('LeaseLostError');
      expect(error.message).toBe('The lease was lost');
      expect(error).toBeInstanceOf(Error);
      const fake = scripted();
      const trying = track(new RedisLock(fake.redis, fresh('tag')).tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      expect(Object.prototype.toString.call(trying.value)).toBe('[object Lease]');
    });

    it('renews a lease it took every third of the lease, not sooner', async () => {
      const fake = scripted((call) => {
        if (call.script === 'RENEW') call.reply([1]);
      });
      const lock = new RedisLock(fake.redis, fresh('renew-every-third'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      expect(trying.status).toBe('fulfilled');
      await advance(99);
      expect(fake.of('RENEW')).toHaveLength(0);
      await advance(1);
      expect(fake.of('RENEW').map((call) => call.own)).toEqual([[fake.last('ACQUIRE').own[0], '300']]);
      await advance(100);
      expect(fake.of('RENEW')).toHaveLength(2);
      // Acquired (not handed over) by a wait: the same, its first renewal a third of the lease later.
      const waiting = track(lock.acquire());
      fake.last('ACQUIRE').reply([2]);
      await settle();
      expect(leaseOf(waiting).token).toBe(2n);
      await advance(99);
      expect(fake.of('RENEW').filter((call) => call.own[0] === fake.last('ACQUIRE').own[0])).toHaveLength(0);
      await advance(1);
      expect(fake.of('RENEW').filter((call) => call.own[0] === fake.last('ACQUIRE').own[0])).toHaveLength(1);
    });

    it('renews a handed-over lease by the next macrotask, and loses it when its short first term runs out unrenewed', async () => {
      const fake = scripted((call) => {
        if (call.script === 'RENEW') call.fail(new Error('down'));
      });
      const lock = new RedisLock(fake.redis, fresh('handed'));
      const a = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      (fake.subscriptions[0] as Subscription).message(`${a.id} 4`);
      await settle();
      const lease = leaseOf(a.wait);
      await advance(1);
      expect(fake.of('RENEW')).toHaveLength(1);
      // The first term of a hand-off is the heartbeat ttl (5 s), not the 30 s lease.
      await advance(4_998);
      expect(lease.signal.aborted).toBe(false);
      await advance(1);
      expect(lease.signal.aborted).toBe(true);
      expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
    });

    it('reads each grant of a POLL reply with its own remaining term', async () => {
      const fake = scripted((call) => {
        if (call.script === 'RENEW') call.fail(new Error('down'));
      });
      const lock = new RedisLock(fake.redis, fresh('poll-terms'));
      const a = await queued(fake, () => lock.acquire());
      const b = await queued(fake, () => lock.acquire());
      (fake.subscriptions[0] as Subscription).confirm();
      await settle();
      expect(fake.last('POLL').own).toEqual([a.id, b.id]);
      fake.last('POLL').reply([0, 5, 1_000, 6, 3_000]);
      await settle();
      const [leaseA, leaseB] = [leaseOf(a.wait), leaseOf(b.wait)];
      expect([leaseA.token, leaseB.token]).toEqual([5n, 6n]);
      await advance(999);
      expect(leaseA.signal.aborted).toBe(false);
      await advance(1);
      expect(leaseA.signal.aborted).toBe(true);
      await advance(1_500);
      expect(leaseB.signal.aborted).toBe(false);
      await advance(500);
      expect(leaseB.signal.aborted).toBe(true);
    });

    it('retries a failed renewal at the next third, one at a time, and is lost exactly at its deadline', async () => {
      const fake = scripted();
      const semaphore = new RedisSemaphore(fake.redis, fresh('deadline'), 2, { lease: 300 });
      const trying = track(semaphore.tryAcquire());
      const acquire = fake.last('ACQUIRE');
      await advance(50); // a slow reply: the lease counts from when ACQUIRE went out
      acquire.reply([3]);
      await settle();
      const lease = trying.value as Lease;
      await advance(99);
      expect(fake.of('RENEW')).toHaveLength(0);
      await advance(1); // t = 150
      expect(fake.of('RENEW')).toHaveLength(1);
      // The renewal hangs: the next tick sends no second one.
      await advance(149); // t = 299
      expect(fake.of('RENEW')).toHaveLength(1);
      expect(lease.signal.aborted).toBe(false);
      await advance(1); // t = 300: the deadline
      expect(lease.signal.aborted).toBe(true);
      expect((lease.signal.reason as Error).message).toBe(
        `RedisSemaphore ${JSON.stringify(semaphore.name)}: the lease with token 3 was lost`,
      );
      // The next waiter may have it at once, if Redis still has it.
      expect(fake.of('LEAVE').map((call) => call.own)).toEqual([[acquire.own[0]]]);
      expect(String(semaphore)).toContain('leases:0');
      // Released after it was lost: false, even though Redis still had it.
      const released = lease.release();
      fake.last('LEAVE').reply([1]);
      expect(await released).toBe(false);
      expect(String(semaphore)).toContain('leases:0');
      // A renewal that comes back after that changes nothing.
      (fake.of('RENEW')[0] as Sent).reply([1]);
      await settle();
      expect(vi.getTimerCount()).toBe(0);
    });

    it('is lost at once when the reply of its ACQUIRE came after most of the lease', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('late-reply'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      await advance(250);
      fake.last('ACQUIRE').reply([3]);
      await settle();
      const lease = trying.value as Lease;
      await advance(49);
      expect(lease.signal.aborted).toBe(false);
      await advance(1);
      expect(lease.signal.aborted).toBe(true);
    });

    it('keeps the lease when a renewal fails and the retry a third of the lease later succeeds', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('retry'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      const lease = trying.value as Lease;
      await advance(100);
      fake.last('RENEW').fail(new Error('blip'));
      await settle();
      await advance(100); // t = 200
      expect(fake.of('RENEW')).toHaveLength(2);
      fake.last('RENEW').reply([1]);
      await settle();
      await advance(200); // t = 400: past the first deadline, within the renewed one
      expect(lease.signal.aborted).toBe(false);
      expect(fake.of('RENEW')).toHaveLength(3);
    });

    it('resolves release() false and aborts the signal when Redis no longer had it', async () => {
      const fake = scripted();
      const name = fresh('release-gone');
      const trying = track(new RedisLock(fake.redis, name).tryAcquire());
      fake.last('ACQUIRE').reply([7]);
      await settle();
      const lease = trying.value as Lease;
      const released = lease.release();
      fake.last('LEAVE').reply([0]);
      expect(await released).toBe(false);
      expect(lease.signal.aborted).toBe(true);
      expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
      expect((lease.signal.reason as Error).message).toBe(
        `RedisLock ${JSON.stringify(name)}: the lease with token 7 was lost`,
      );
    });

    it('does not abort a released lease when a renewal in flight comes back refused', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('renew-after-release'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      const lease = trying.value as Lease;
      await advance(100);
      const renew = fake.last('RENEW');
      const released = lease.release();
      fake.last('LEAVE').reply([1]);
      expect(await released).toBe(true);
      renew.reply([0]);
      await settle();
      expect(lease.signal.aborted).toBe(false);
      expect(String(lock)).toBe(`RedisLock ${JSON.stringify(lock.name)} [waiters:0]`);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('resolves release() of a lost lease false when its LEAVE fails', async () => {
      const fake = scripted();
      const lock = new RedisLock(fake.redis, fresh('lost-leave-fails'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      const lease = trying.value as Lease;
      await advance(100);
      fake.last('RENEW').reply([0]); // gone
      await settle();
      expect(lease.signal.aborted).toBe(true);
      const released = lease.release();
      fake.last('LEAVE').fail(new Error('down'));
      expect(await released).toBe(false);
    });

    it('never throws from release() or a renewal when the client throws synchronously', async () => {
      const boom = new Error('boom');
      // Reading its message throws: the client's error cannot even be described.
      const hostile = {
        get message(): string {
          throw boom;
        },
      };
      let throwing = false;
      const fake = scripted(() => {
        if (throwing) throw hostile;
      });
      const lock = new RedisLock(fake.redis, fresh('throws'), { lease: 300 });
      const trying = track(lock.tryAcquire());
      fake.last('ACQUIRE').reply([1]);
      await settle();
      const lease = trying.value as Lease;
      throwing = true;
      await advance(100); // the renewal throws: tried again at the next tick
      expect(fake.of('RENEW')).toHaveLength(1);
      throwing = false;
      await advance(100);
      expect(fake.of('RENEW')).toHaveLength(2);
      fake.last('RENEW').reply([1]);
      await settle();
      throwing = true;
      let released: Promise<boolean> | undefined;
      expect(() => {
        released = lease.release();
      }).not.toThrow();
      expect(await rejectionOf(released as Promise<boolean>)).toBe(boom);
    });
  });
});

describe.skipIf(!hasRedis)('RedisLock and RedisSemaphore against redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  let client: ReturnType<typeof createClient>;
  let redis: RedisLike;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    admin.on('error', () => {});
    client = createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    redis = nodeRedis(client);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await admin?.quit();
    await server?.stop();
  });

  it('marks the name with its kind in Redis while held', async () => {
    const name = fresh('kind');
    const lease = await new RedisLock(redis, name).acquire();
    expect(await admin.get(`waitsafe:{${name}}:kind`)).toBe('RedisLock');
    await lease.release();
    const other = fresh('kind-s');
    const permits = await new RedisSemaphore(redis, other, 3).acquire({ timeout: 1_000 });
    expect(await admin.get(`waitsafe:{${other}}:kind`)).toBe('RedisSemaphore/3');
    await permits.release();
  });

  it('takes one permit when the options of acquire() have no weight', async () => {
    const name = fresh('no-weight');
    const semaphore = new RedisSemaphore(redis, name, 2);
    const one = await semaphore.acquire({ timeout: 1_000 });
    const two = await semaphore.acquire({ weight: undefined });
    expect(await semaphore.tryAcquire()).toBeUndefined();
    expect(await admin.zcard(`waitsafe:{${name}}:holders`)).toBe(2);
    await one.release();
    await two.release();
    const error = await rejectionOf(semaphore.tryAcquire('2' as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('The "weight" argument must be a number, got string');
  });

  it('resolves release() false and aborts the signal when the hold was taken away in Redis', async () => {
    const name = fresh('taken-away');
    const lease = await new RedisLock(redis, name).acquire();
    await admin.del(`waitsafe:{${name}}:holders`);
    expect(await lease.release()).toBe(false);
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
  });
});
