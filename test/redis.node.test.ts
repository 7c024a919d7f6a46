/**
 * `waitsafe/redis`, functional, in one process against a real `redis-server` (started on a free
 * loopback port by `redis-server.ts`), with both client libraries: `redis` (node-redis) and
 * `ioredis`. Two clients (two adapters) in one process stand for two processes here; the
 * multi-process and fault tests (kill -9, SIGSTOP, restarts) are elsewhere.
 *
 * Skipped where `redis-server` is not installed (`hasRedis`).
 */

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import {
  ioredis,
  type Lease,
  LeaseLostError,
  nodeRedis,
  RedisEvent,
  type RedisLike,
  RedisLock,
  RedisSemaphore,
} from '../src/redis/index.js';
import * as scripts from '../src/redis/scripts.js';
import { sha1 } from '../src/redis/sha1.js';
import {
  abortListeners,
  expectLeakWarning,
  expectTimeoutError,
  flushMicrotasks,
  nextMacrotask,
  rejectionOf,
  spyOnWarnings,
  track,
} from './helpers.js';
import { CLIENTS, connectionsOf } from './redis-clients.js';
import { hasRedis, INSTALL_HINT, type RedisServer, startRedis } from './redis-server.js';

if (!hasRedis) {
  process.stderr.write(`redis.node.test.ts: skipped, redis-server is not installed: ${INSTALL_HINT}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (or fails the test after `ms`). */
async function eventually(check: () => boolean | Promise<boolean>, ms = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) expect.fail(`${what}: not true within ${ms} ms`);
    await sleep(5);
  }
}

let names = 0;
/** A name no other test uses. */
const fresh = (what: string) => `test:${what}:${++names}:${Math.random().toString(36).slice(2, 8)}`;

/** The keys of a lock or semaphore named `name`. */
const permitKeys = (name: string) =>
  ['kind', 'holders', 'queue', 'alive', 'info', 'token'].map((part) => `waitsafe:{${name}}:${part}`);

/**
 * Records the timers that waitsafe's own code (`src/`) sets from now on, and tells which of them
 * are still pending: the probe's count (`activeTimeouts()` in helpers.ts) also sees the client libraries' own
 * timers (node-redis arms one per command deadline), which are not waitsafe's to clear.
 */
function ownTimers() {
  const pending = new Map<unknown, string>();
  let seen = 0;
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  const own = /\/src\/(?:redis|core)\/[\w-]+\.ts/;
  globalThis.setTimeout = function setTimeout(
    this: unknown,
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) {
    // The direct caller only: a client library's timer set while waitsafe calls it is not waitsafe's.
    const caller = (new Error().stack ?? '').split('\n')[2] ?? '';
    const site = own.exec(caller)?.[0];
    let handle: unknown;
    const fired = (...a: unknown[]) => {
      pending.delete(handle);
      callback(...a);
    };
    handle = (set as (...a: unknown[]) => unknown).call(this, fired, ms, ...args);
    if (site !== undefined) {
      seen++;
      pending.set(handle, `${site} (${ms} ms)`);
    }
    return handle;
  } as typeof globalThis.setTimeout;
  globalThis.clearTimeout = function clearTimeout(this: unknown, handle?: Parameters<typeof clear>[0]) {
    pending.delete(handle);
    clear.call(this, handle);
  } as typeof globalThis.clearTimeout;
  return {
    pending: () => [...pending.values()],
    seen: () => seen,
    stop() {
      globalThis.setTimeout = set;
      globalThis.clearTimeout = clear;
    },
  };
}

/** A RedisLike that counts what goes through it, and can drop grant messages. */
function spy(inner: RedisLike) {
  const calls = { eval: 0, subscribe: 0, scripts: [] as string[] };
  let dropMessages = false;
  const redis: RedisLike = {
    eval(script, keys, args) {
      calls.eval++;
      calls.scripts.push(script);
      return inner.eval(script, keys, args);
    },
    subscribe(channel, onMessage, onError) {
      calls.subscribe++;
      return inner.subscribe(channel, (message) => (dropMessages ? undefined : onMessage(message)), onError);
    },
  };
  return {
    redis,
    calls,
    dropMessages(on: boolean) {
      dropMessages = on;
    },
  };
}

describe('sha1', () => {
  it('matches known digests (EVALSHA needs the exact one)', () => {
    expect(sha1('')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(sha1('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1('a'.repeat(1_000))).toBe('291e9a6c66994949b57ba5e650361e98fc36b1ba');
    for (const text of ['héllo ✓', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), ...Object.values(scripts)]) {
      expect(sha1(text)).toBe(createHash('sha1').update(text, 'utf8').digest('hex'));
    }
  });
});

describe.skipIf(!hasRedis)('waitsafe/redis against redis-server', () => {
  let server: RedisServer;
  /** A raw client to inspect keys and subscriptions, apart from the ones under test. */
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    admin.on('error', () => {});
  }, 30_000);

  afterAll(async () => {
    await admin?.quit();
    await server?.stop();
  });

  const exists = (...keys: string[]) => admin.exists(...keys);
  const numsub = async (channel: string) => Number(((await admin.pubsub('NUMSUB', channel)) as unknown[])[1]);
  /** Subscribers of the grant channels of `name`: one channel per process (`…:grant:<process>`). */
  const grantSubscribers = async (name: string) => {
    const channels = (await admin.pubsub('CHANNELS', `waitsafe:{${name}}:grant:*`)) as string[];
    if (channels.length === 0) return 0;
    const counts = (await admin.pubsub('NUMSUB', ...channels)) as unknown[];
    let subscribers = 0;
    for (let i = 1; i < counts.length; i += 2) subscribers += Number(counts[i]);
    return subscribers;
  };

  describe.each(CLIENTS)('with the $name client', (kind) => {
    /** A new connection (adapter), closed after the test. */
    const open = connectionsOf(kind, () => server.url);

    describe('RedisLock', () => {
      it('acquires, refuses tryAcquire while held, releases once, and hands over', async () => {
        const redis = await open();
        const name = fresh('basic');
        const lock = new RedisLock(redis, name);
        const first = await lock.acquire();
        expect(typeof first.token).toBe('bigint');
        expect(first.token).toBeGreaterThan(0n);
        expect(first.signal.aborted).toBe(false);
        expect(String(lock)).toBe(`RedisLock ${JSON.stringify(name)} [held, waiters:0]`);
        expect(await lock.tryAcquire()).toBeUndefined();
        expect(await first.release()).toBe(true);
        expect(await first.release()).toBe(false); // once only
        expect(first.signal.aborted).toBe(false);
        const second = await lock.tryAcquire();
        expect(second).toBeDefined();
        expect((second as Lease).token).toBeGreaterThan(first.token);
        expect(await (second as Lease).release()).toBe(true);
        expect(String(lock)).toBe(`RedisLock ${JSON.stringify(name)} [waiters:0]`);
        // Idle: only the token counter is left.
        expect(await exists(...permitKeys(name).slice(0, 5))).toBe(0);
        expect(await exists(`waitsafe:{${name}}:token`)).toBe(1);
      });

      it('serves local waiters in FIFO order', async () => {
        const redis = await open();
        const lock = new RedisLock(redis, fresh('fifo'));
        const held = await lock.acquire();
        const order: number[] = [];
        const waits = [0, 1, 2, 3, 4].map((i) =>
          lock.acquire().then(async (lease) => {
            order.push(i);
            await lease.release();
          }),
        );
        expect(lock.waiterCount).toBe(5);
        await held.release();
        await Promise.all(waits);
        expect(order).toEqual([0, 1, 2, 3, 4]);
        expect(lock.waiterCount).toBe(0);
      });

      it('hands over across connections, FIFO across them, with increasing tokens', async () => {
        const [a, b, c] = [await open(), await open(), await open()];
        const name = fresh('handoff');
        const [la, lb, lc] = [new RedisLock(a, name), new RedisLock(b, name), new RedisLock(c, name)];
        const held = await la.acquire();
        const got: Array<[string, bigint]> = [];
        const wb = lb.acquire().then((lease) => {
          got.push(['b', lease.token]);
          return lease;
        });
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        const wc = lc.acquire().then((lease) => {
          got.push(['c', lease.token]);
          return lease;
        });
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 2);
        await held.release();
        const leaseB = await wb;
        expect(got).toEqual([['b', leaseB.token]]);
        expect(leaseB.token).toBeGreaterThan(held.token);
        await leaseB.release();
        const leaseC = await wc;
        expect(leaseC.token).toBeGreaterThan(leaseB.token);
        expect(await leaseC.release()).toBe(true);
      });

      it('gives strictly increasing tokens across connections', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('tokens');
        const locks = [new RedisLock(a, name), new RedisLock(b, name)];
        let last = 0n;
        for (let i = 0; i < 20; i++) {
          const lease = await (locks[i % 2] as RedisLock).acquire();
          expect(lease.token).toBeGreaterThan(last);
          last = lease.token;
          await lease.release();
        }
      });

      it('keeps tokens increasing when Redis loses its data (a restart without persistence)', async () => {
        const redis = await open();
        const name = fresh('data-loss');
        const lock = new RedisLock(redis, name);
        const first = await lock.acquire();
        await first.release();
        await admin.del(...permitKeys(name)); // as a restart of a server without persistence would
        const second = await lock.acquire();
        expect(second.token).toBeGreaterThan(first.token);
        await second.release();
        const event = new RedisEvent(redis, fresh('data-loss-event'));
        await event.set();
        await event.clear();
        expect(await event.isSet()).toBe(false);
      });

      it('renews its lease while held, past the lease time', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('renew');
        const lease = await new RedisLock(a, name, { lease: 500 }).acquire();
        await sleep(1_600); // more than three leases
        expect(lease.signal.aborted).toBe(false);
        expect(await new RedisLock(b, name, { lease: 500 }).tryAcquire()).toBeUndefined();
        const ttl = await admin.pttl(`waitsafe:{${name}}:holders`);
        expect(ttl).toBeGreaterThan(0);
        expect(await lease.release()).toBe(true);
      });

      it('extends a lease handed over by a release from its short first term to the full lease, by the next macrotask', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('handed-term');
        const holders = `waitsafe:{${name}}:holders`;
        const first = await new RedisLock(a, name, { lease: 60_000 }).acquire();
        const waiting = new RedisLock(b, name, { lease: 60_000 }).acquire();
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1, 3_000, 'queued');
        await first.release();
        const second = await waiting;
        // Granted by the release's script: the first term is the heartbeat ttl (5 s), not 60 s.
        const remaining = async () => {
          const [member, expiry] = (await admin.zrange(holders, 0, 0, 'WITHSCORES')) as [string, string];
          const [seconds, micros] = (await admin.time()) as [number, number];
          return member === undefined
            ? 0
            : Number(expiry) - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
        };
        // The renewal goes out by the next macrotask: within a second the term is the full lease.
        await eventually(async () => (await remaining()) > 30_000, 1_000, 'renewed to the full lease');
        expect(await second.release()).toBe(true);
      });

      it('aborts lease.signal with LeaseLostError when the lease is gone, and release() resolves false', async () => {
        const redis = await open();
        const name = fresh('lost');
        const lease = await new RedisLock(redis, name, { lease: 300 }).acquire();
        // Another party took it away (as an expiry during a pause would).
        await admin.del(`waitsafe:{${name}}:holders`);
        await eventually(() => lease.signal.aborted, 1_000, 'signal aborted');
        expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
        expect((lease.signal.reason as Error).name).toBe('LeaseLostError');
        expect((lease.signal.reason as Error).message).toContain(`RedisLock ${JSON.stringify(name)}`);
        expect(await lease.release()).toBe(false);
      });

      it('loses the lease locally when renewals cannot get through before it runs out', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('pause');
        const lease = await new RedisLock(a, name, { lease: 300 }).acquire();
        server.pause();
        try {
          await eventually(() => lease.signal.aborted, 2_000, 'signal aborted while Redis is paused');
        } finally {
          server.resume();
        }
        expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
        expect(await lease.release()).toBe(false);
        const next = await new RedisLock(b, name).acquire({ timeout: 2_000 });
        expect(next.token).toBeGreaterThan(lease.token);
        await next.release();
      });

      it('releases a lost lease that Redis still has, when release() is called, and resolves false', async () => {
        const redis = await open();
        const name = fresh('release-after-lost');
        const lock = new RedisLock(redis, name, { lease: 300 });
        const lease = await lock.acquire();
        await admin.del(`waitsafe:{${name}}:holders`);
        await eventually(() => lease.signal.aborted, 1_000);
        expect(String(lock)).toBe(`RedisLock ${JSON.stringify(name)} [waiters:0]`);
        expect(await lease.release()).toBe(false);
        expect(await lease.release()).toBe(false);
      });

      it('works with await using', async () => {
        const redis = await open();
        const name = fresh('using');
        const lock = new RedisLock(redis, name);
        {
          await using lease = await lock.acquire();
          expect(lease.token).toBeGreaterThan(0n);
          expect(await lock.tryAcquire()).toBeUndefined();
        }
        const again = await lock.tryAcquire();
        expect(again).toBeDefined();
        await again?.release();
      });

      it('gives keys a TTL, so that a primitive whose processes all died leaves nothing', async () => {
        const redis = await open();
        const name = fresh('ttl');
        const held = await new RedisLock(redis, name, { lease: 1_000 }).acquire();
        const waiting = new RedisLock(redis, name).acquire();
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        for (const key of permitKeys(name).slice(0, 5)) {
          const ttl = await admin.pttl(key);
          expect(ttl, key).toBeGreaterThan(0);
          expect(ttl, key).toBeLessThanOrEqual(7_000);
        }
        expect(await admin.pttl(`waitsafe:{${name}}:token`)).toBe(-1);
        await held.release();
        await (await waiting).release();
      });

      it('grants the next waiter when a dead holder lease expires or a dead waiter is ahead (safety net)', async () => {
        const redis = await open();
        const name = fresh('dead');
        const [holders, queue, alive, info] = permitKeys(name).slice(1, 5) as [string, string, string, string];
        const time = await admin.time();
        const serverNow = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
        // A holder whose process died: its lease runs out in 300 ms. A waiter behind it whose
        // process died too: its heartbeat runs out in 600 ms.
        await admin.zadd(holders, serverNow + 300, 'dead-holder');
        await admin.hset(info, 'dead-holder', '1 30000 1');
        await admin.zadd(queue, 0, 'dead-waiter');
        await admin.zadd(alive, serverNow + 600, 'dead-waiter');
        await admin.hset(info, 'dead-waiter', '1 30000');
        const started = performance.now();
        const lease = await new RedisLock(redis, name).acquire({ timeout: 5_000 });
        const elapsed = performance.now() - started;
        // The dead waiter was granted in between (a short first lease) or purged; either way
        // this waiter got it within its heartbeat plus a poll or two.
        expect(elapsed).toBeGreaterThan(250);
        expect(elapsed).toBeLessThan(4_000 + 600);
        expect(await admin.zscore(holders, 'dead-holder')).toBeNull();
        expect(await admin.zscore(queue, 'dead-waiter')).toBeNull();
        await lease.release();
      }, 10_000);

      it('finds a grant whose message was lost with the safety-net poll', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('lost-message');
        const spied = spy(b);
        const held = await new RedisLock(a, name).acquire();
        const lock = new RedisLock(spied.redis, name);
        const waiting = lock.acquire();
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        spied.dropMessages(true);
        await held.release();
        const lease = await waiting; // within a poll interval
        expect(lease.token).toBeGreaterThan(held.token);
        await lease.release();
      });
    });

    describe('RedisSemaphore', () => {
      it('holds up to its permits, FIFO without barging, a heavy head blocking lighter waiters', async () => {
        const redis = await open();
        const name = fresh('weights');
        const s = new RedisSemaphore(redis, name, 3);
        const two = await s.acquire({ weight: 2 });
        expect(String(s)).toBe(`RedisSemaphore ${JSON.stringify(name)} [permits:3, leases:1, waiters:0]`);
        const heavy = track(s.acquire({ weight: 3 }));
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        const light = track(s.acquire({ weight: 1 }));
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 2);
        // One permit is free, but the heavy head blocks the light waiter, and tryAcquire.
        expect(await s.tryAcquire(1)).toBeUndefined();
        await sleep(50);
        expect(light.status).toBe('pending');
        await two.release();
        await eventually(() => heavy.status === 'fulfilled');
        expect(light.status).toBe('pending');
        await (heavy.value as Lease).release();
        await eventually(() => light.status === 'fulfilled');
        await (light.value as Lease).release();
      });

      it('grants whoever fits when the heavy head gives up', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('head-leaves');
        const s = new RedisSemaphore(a, name, 3);
        const two = await s.acquire({ weight: 2 });
        const controller = new AbortController();
        const heavy = s.acquire({ weight: 2, signal: controller.signal });
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        const light = track(new RedisSemaphore(b, name, 3).acquire({ weight: 1 }));
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 2);
        await sleep(20);
        expect(light.status).toBe('pending');
        const reason = new Error('gave up');
        controller.abort(reason);
        expect(await rejectionOf(heavy)).toBe(reason);
        await eventually(() => light.status === 'fulfilled');
        await (light.value as Lease).release();
        await two.release();
      });

      it('takes weights with tryAcquire, and several holders at once', async () => {
        const redis = await open();
        const name = fresh('try-weights');
        const s = new RedisSemaphore(redis, name, 4);
        const a = await s.tryAcquire(3);
        expect(a).toBeDefined();
        expect(await s.tryAcquire(2)).toBeUndefined();
        const b = await s.tryAcquire();
        expect(b).toBeDefined();
        expect((b as Lease).token).toBeGreaterThan((a as Lease).token);
        expect(await admin.zcard(`waitsafe:{${name}}:holders`)).toBe(2);
        await a?.release();
        await b?.release();
        expect(await exists(`waitsafe:{${name}}:holders`)).toBe(0);
      });

      it('rejects a semaphore of other permits, a lock or an event of the same name with a TypeError', async () => {
        const redis = await open();
        const name = fresh('kinds');
        const lease = await new RedisSemaphore(redis, name, 2).acquire();
        const other = await rejectionOf(new RedisSemaphore(redis, name, 3).acquire());
        expect(other).toBeInstanceOf(TypeError);
        expect((other as Error).message).toContain('RedisSemaphore of 2 permits');
        const lock = await rejectionOf(new RedisLock(redis, name).tryAcquire());
        expect(lock).toBeInstanceOf(TypeError);
        expect((lock as Error).message).toMatch(/^RedisLock ".*": the name ".*" is in use by a RedisSemaphore/);
        expect(await rejectionOf(new RedisEvent(redis, name).set())).toBeInstanceOf(TypeError);
        await lease.release();
        // Idle, the name is free for another kind.
        const event = new RedisEvent(redis, name);
        await event.set();
        expect(await rejectionOf(new RedisLock(redis, name).acquire())).toBeInstanceOf(TypeError);
        await event.clear();
        const held = await new RedisLock(redis, name).acquire();
        await held.release();
      });
    });

    describe('the rules of every wait, for the local waiter', () => {
      it('rejects with the exact reason on abort, unlinked at once, and leaves the Redis queue', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('abort');
        const held = await new RedisLock(a, name).acquire();
        const lock = new RedisLock(b, name);
        const controller = new AbortController();
        const waiting = lock.acquire({ signal: controller.signal });
        expect(lock.waiterCount).toBe(1);
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        const reason = { custom: true };
        controller.abort(reason);
        expect(lock.waiterCount).toBe(0);
        expect(await rejectionOf(waiting)).toBe(reason);
        await eventually(async () => (await exists(`waitsafe:{${name}}:queue`, `waitsafe:{${name}}:alive`)) === 0);
        expect(await admin.hlen(`waitsafe:{${name}}:info`)).toBe(1); // the holder's
        await nextMacrotask();
        expect(abortListeners(controller.signal)).toBe(0);
        await held.release();
      });

      it('rejects with a TimeoutError naming the primitive and the ms', async () => {
        const redis = await open();
        const name = fresh('timeout');
        const lock = new RedisLock(redis, name);
        const held = await lock.acquire();
        const error = await rejectionOf(lock.acquire({ timeout: 50 }));
        expectTimeoutError(error);
        expect(error.message).toBe(`RedisLock ${JSON.stringify(name)}: acquire() timed out after 50 ms`);
        expect(lock.waiterCount).toBe(0);
        await eventually(async () => (await exists(`waitsafe:{${name}}:queue`)) === 0);
        await held.release();
      });

      it('timeout: 0 takes a free lock, else rejects without counting as a waiter', async () => {
        const redis = await open();
        const name = fresh('timeout0');
        const lock = new RedisLock(redis, name);
        const lease = await lock.acquire({ timeout: 0 });
        const attempt = lock.acquire({ timeout: 0 });
        expect(lock.waiterCount).toBe(0);
        const error = await rejectionOf(attempt);
        expectTimeoutError(error);
        expect(error.message).toContain('after 0 ms');
        expect(await exists(`waitsafe:{${name}}:queue`)).toBe(0);
        await lease.release();
        const s = new RedisSemaphore(redis, fresh('timeout0-weight'), 2);
        const both = await s.acquire({ weight: 2, timeout: 0 });
        expectTimeoutError(await rejectionOf(s.acquire({ weight: 1, timeout: 0 })));
        await both.release();
      });

      it('with an already aborted signal, rejects at once and sends nothing, even if the lock is free', async () => {
        const spied = spy(await open());
        const name = fresh('aborted');
        const lock = new RedisLock(spied.redis, name);
        const reason = new Error('already');
        const attempt = lock.acquire({ signal: AbortSignal.abort(reason) });
        expect(lock.waiterCount).toBe(0);
        expect(await rejectionOf(attempt)).toBe(reason);
        const s = new RedisSemaphore(spied.redis, name, 2);
        expect(await rejectionOf(s.acquire({ weight: 2, signal: AbortSignal.abort(reason), timeout: 0 }))).toBe(reason);
        const event = new RedisEvent(spied.redis, fresh('aborted-event'));
        expect(await rejectionOf(event.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
        expect(spied.calls).toEqual({ eval: 0, subscribe: 0, scripts: [] });
        expect(await exists(...permitKeys(name))).toBe(0);
      });

      it('validates options strictly, reports errors before an abort, never throws synchronously', async () => {
        const spied = spy(await open());
        const lock = new RedisLock(spied.redis, fresh('options'));
        const s = new RedisSemaphore(spied.redis, fresh('options-s'), 3);
        const event = new RedisEvent(spied.redis, fresh('options-e'));
        const aborted = AbortSignal.abort();
        const cases: Array<[() => Promise<unknown>, ErrorConstructor, RegExp]> = [
          [() => lock.acquire(null as never), TypeError, /"options"/],
          [() => lock.acquire(5 as never), TypeError, /"options"/],
          [() => lock.acquire({ timout: 5 } as never), TypeError, /Unknown option "timout"/],
          [() => lock.acquire({ weight: 1 } as never), TypeError, /Unknown option "weight"/],
          [() => lock.acquire({ timeout: -1 }), RangeError, /"timeout"/],
          [() => lock.acquire({ timeout: Number.NaN }), RangeError, /"timeout"/],
          [() => lock.acquire({ timeout: '5' as never }), TypeError, /"timeout"/],
          [() => lock.acquire({ timeout: null as never }), TypeError, /"timeout"/],
          [() => lock.acquire({ signal: {} as never }), TypeError, /"signal"/],
          [() => lock.acquire({ signal: aborted, timeout: -1 }), RangeError, /"timeout"/],
          [() => s.acquire({ weight: 0 }), RangeError, /"weight" option must be an integer from 1 to 3/],
          [() => s.acquire({ weight: 4 }), RangeError, /"weight"/],
          [() => s.acquire({ weight: 1.5 }), RangeError, /"weight"/],
          [() => s.acquire({ weight: '1' as never }), TypeError, /"weight"/],
          [() => s.acquire({ weight: 4, signal: aborted }), RangeError, /"weight"/],
          [() => s.tryAcquire(4), RangeError, /"weight" argument/],
          [() => s.tryAcquire(0), RangeError, /"weight" argument/],
          [() => s.tryAcquire('2' as never), TypeError, /"weight" argument/],
          [() => event.wait({ timeout: -5 }), RangeError, /"timeout"/],
          [() => event.wait({ foo: 1 } as never), TypeError, /Unknown option "foo"/],
        ];
        for (const [call, type, message] of cases) {
          let promise: Promise<unknown> | undefined;
          expect(() => {
            promise = call();
          }).not.toThrow();
          const error = await rejectionOf(promise as Promise<unknown>);
          expect(error, String(call)).toBeInstanceOf(type);
          expect((error as Error).message, String(call)).toMatch(message);
        }
        expect(lock.waiterCount + s.waiterCount + event.waiterCount).toBe(0);
        expect(spied.calls.eval + spied.calls.subscribe).toBe(0);
      });

      it('abandons 1,000 acquires (half by signal, half by timeout) leaving nothing here or in Redis', async () => {
        const [a, b] = [await open({ idleTimeout: 50 }), await open({ idleTimeout: 50 })];
        const timers = ownTimers();
        onTestFinished(() => timers.stop());
        const name = fresh('thousand');
        const held = await new RedisLock(a, name).acquire();
        const lock = new RedisLock(b, name, { maxWaiters: 2_000 });
        const controllers = Array.from({ length: 500 }, () => new AbortController());
        // Settlements are observed from the start: a timeout may fire before the aborts below on
        // a loaded machine, and its rejection must not go unhandled meanwhile.
        let timedOut = 0;
        const timeoutWaits = Array.from({ length: 500 }, () =>
          lock.acquire({ timeout: 300 }).catch((error: unknown) => {
            timedOut++;
            throw error;
          }),
        );
        const waits = [...controllers.map((c) => lock.acquire({ signal: c.signal })), ...timeoutWaits];
        for (const wait of waits) wait.catch(() => {});
        expect(lock.waiterCount).toBe(1_000);
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) >= 1_000 - timedOut, 5_000);
        await eventually(async () => (await grantSubscribers(name)) === 1); // one subscription for all
        for (const c of controllers) c.abort();
        expect(lock.waiterCount).toBe(500 - timedOut); // the aborted ones left in that same step
        const results = await Promise.allSettled(waits);
        expect(results.every((r) => r.status === 'rejected')).toBe(true);
        expect(lock.waiterCount).toBe(0);
        await eventually(
          async () => (await exists(`waitsafe:{${name}}:queue`, `waitsafe:{${name}}:alive`)) === 0,
          5_000,
          'queue keys empty',
        );
        expect(await admin.hlen(`waitsafe:{${name}}:info`)).toBe(1); // the holder
        await eventually(async () => (await grantSubscribers(name)) === 0, 2_000, 'unsubscribed');
        await held.release();
        expect(await exists(...permitKeys(name).slice(0, 5))).toBe(0);
        for (const c of controllers) expect(abortListeners(c.signal)).toBe(0);
        // The adapter's subscription connection closes after its idle timeout; then no timer is left.
        await sleep(100);
        await nextMacrotask();
        expect(timers.seen()).toBeGreaterThan(0); // the poll timer, the timeouts' timer, the lease's
        expect(timers.pending()).toEqual([]);
        // The next acquire is not delayed.
        const started = performance.now();
        const next = await lock.acquire();
        expect(performance.now() - started).toBeLessThan(500); // not held up until a poll
        await next.release();
      }, 20_000);

      it('releases a grant that races an abort at once, and the next waiter gets it', async () => {
        const [a, b, c] = [await open(), await open(), await open()];
        const name = fresh('race');
        const held = await new RedisLock(a, name).acquire();
        const controller = new AbortController();
        const first = track(new RedisLock(b, name).acquire({ signal: controller.signal }));
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 1);
        const second = new RedisLock(c, name).acquire({ timeout: 5_000 });
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 2);
        // The release grants `first` in Redis; `first` gives up before it hears of it.
        const released = held.release();
        controller.abort();
        expect(await released).toBe(true);
        await eventually(() => first.status === 'rejected');
        expect((first.reason as Error).name).toBe('AbortError');
        const lease = await second;
        expect(lease.token).toBeGreaterThan(held.token + 1n); // `first` had a token in between
        await lease.release();
        expect(await exists(...permitKeys(name).slice(0, 5))).toBe(0);
      });

      it('undoes an acquire granted while its ACQUIRE was in flight when it gives up', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('in-flight');
        const controller = new AbortController();
        const attempt = new RedisLock(a, name).acquire({ signal: controller.signal });
        controller.abort(); // ACQUIRE is on its way; it will take the free lock
        expect(((await rejectionOf(attempt)) as Error).name).toBe('AbortError');
        // ACQUIRE took the lock (its token was drawn), and LEAVE, sent after its reply, gave it back.
        await eventually(
          async () =>
            (await exists(`waitsafe:{${name}}:token`)) === 1 && (await exists(`waitsafe:{${name}}:holders`)) === 0,
          2_000,
          'taken, then released',
        );
        const lease = await new RedisLock(b, name).tryAcquire();
        expect(lease).toBeDefined();
        await lease?.release();
      });

      it('emits the leak warning past maxWaiters', async () => {
        const redis = await open();
        const name = fresh('leak');
        const lock = new RedisLock(redis, name, { maxWaiters: 2 });
        const held = await lock.acquire();
        const warn = spyOnWarnings();
        try {
          const controller = new AbortController();
          const waits = [1, 2, 3].map(() => lock.acquire({ signal: controller.signal }));
          expect(warn).toHaveBeenCalledTimes(1);
          expectLeakWarning(warn.mock.calls[0], `RedisLock ${JSON.stringify(name)}: 3 pending waiters`);
          controller.abort();
          await Promise.allSettled(waits);
        } finally {
          warn.mockRestore();
        }
        await held.release();
      });

      it('rejects waits with the client error when Redis cannot be reached, keeping nothing', async () => {
        const failing: RedisLike = {
          eval: () => Promise.reject(new Error('connection refused')),
          subscribe: () => Promise.reject(new Error('connection refused')),
        };
        const lock = new RedisLock(failing, fresh('down'));
        const error = await rejectionOf(lock.acquire());
        expect((error as Error).message).toBe('connection refused');
        expect(lock.waiterCount).toBe(0);
        expect(((await rejectionOf(lock.tryAcquire())) as Error).message).toBe('connection refused');
        const event = new RedisEvent(failing, fresh('down-event'));
        expect(((await rejectionOf(event.wait())) as Error).message).toBe('connection refused');
        expect(event.waiterCount).toBe(0);
      });
    });

    describe('RedisEvent', () => {
      it('sets, clears and reports across connections; set wakes waits of every connection', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('event');
        const ea = new RedisEvent(a, name);
        const eb = new RedisEvent(b, name);
        expect(await ea.isSet()).toBe(false);
        const waiting = track(ea.wait());
        const other = track(eb.wait({ timeout: 5_000 }));
        expect(ea.waiterCount).toBe(1);
        expect(String(ea)).toBe(`RedisEvent ${JSON.stringify(name)} [waiters:1]`);
        await eventually(async () => (await numsub(`waitsafe:{${name}}:set`)) === 2);
        await sleep(20);
        expect(waiting.status).toBe('pending');
        await eb.set();
        expect(other.status).toBe('fulfilled'); // its own wait, at once
        await eventually(() => waiting.status === 'fulfilled');
        expect(waiting.value).toBe(true);
        expect(await ea.isSet()).toBe(true);
        expect(await ea.wait()).toBe(true);
        expect(await ea.wait({ timeout: 0 })).toBe(true);
        await ea.set(); // idempotent
        await ea.clear();
        expect(await eb.isSet()).toBe(false);
        expectTimeoutError(await rejectionOf(eb.wait({ timeout: 0 })));
        const error = await rejectionOf(eb.wait({ timeout: 50 }));
        expectTimeoutError(error);
        expect((error as Error).message).toBe(`RedisEvent ${JSON.stringify(name)}: wait() timed out after 50 ms`);
        await eventually(async () => (await numsub(`waitsafe:{${name}}:set`)) === 0, 2_000, 'unsubscribed');
        expect(await exists(`waitsafe:{${name}}:set`, `waitsafe:{${name}}:kind`)).toBe(0);
      });

      it('abandons waits leaving no waiter, listener or subscription', async () => {
        const redis = await open({ idleTimeout: 20 });
        const name = fresh('event-abandon');
        const event = new RedisEvent(redis, name);
        const controller = new AbortController();
        const waits = Array.from({ length: 200 }, (_, i) =>
          event.wait(i % 2 === 0 ? { signal: controller.signal } : { timeout: 100 }),
        );
        expect(event.waiterCount).toBe(200);
        await eventually(async () => (await numsub(`waitsafe:{${name}}:set`)) === 1);
        const reason = new Error('stop');
        controller.abort(reason);
        expect(event.waiterCount).toBe(100);
        const results = await Promise.allSettled(waits);
        expect(results.filter((r) => r.status === 'rejected' && r.reason === reason)).toHaveLength(100);
        expect(event.waiterCount).toBe(0);
        await eventually(async () => (await numsub(`waitsafe:{${name}}:set`)) === 0, 2_000, 'unsubscribed');
        expect(abortListeners(controller.signal)).toBe(0);
      });

      it('catches a set that came while it subscribed, and a set-and-clear it missed (safety net)', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('event-race');
        const spied = spy(a);
        const event = new RedisEvent(spied.redis, name);
        const setter = new RedisEvent(b, name);
        const waiting = track(event.wait({ timeout: 5_000 }));
        await eventually(async () => (await numsub(`waitsafe:{${name}}:set`)) === 1);
        await flushMicrotasks();
        await sleep(20); // its first check went out: it knows the generation
        spied.dropMessages(true);
        await setter.set();
        await setter.clear();
        await eventually(() => waiting.status === 'fulfilled', 3_000, 'woken by the poll');
      });
    });

    describe('inspection and connections', () => {
      it('is tracked by the inspector and shows its state', async () => {
        const redis = await open();
        const stop = trackWaiters();
        try {
          const name = fresh('inspect');
          const lock = new RedisLock(redis, name);
          const held = await lock.acquire();
          const controller = new AbortController();
          const waits = [lock.acquire({ signal: controller.signal }), lock.acquire({ signal: controller.signal })];
          expect(String(lock)).toBe(`RedisLock ${JSON.stringify(name)} [held, waiters:2]`);
          expect(Object.prototype.toString.call(lock)).toBe('[object RedisLock]');
          const row = snapshot().rows.find((r) => r.name === name);
          expect(row).toMatchObject({ kind: 'RedisLock', primitives: 1, waiters: 2 });
          controller.abort();
          await Promise.allSettled(waits);
          await held.release();
        } finally {
          stop();
        }
      });

      it('shares one subscription per channel among primitives and waits, and closes it when idle', async () => {
        const redis = await open({ idleTimeout: 100 });
        const name = fresh('shared');
        const clientIds = async () =>
          new Set([...((await admin.client('LIST')) as string).matchAll(/^id=(\d+) /gm)].map((m) => m[1]));
        const before = await clientIds();
        const holder = await new RedisLock(redis, name).acquire();
        const locks = [new RedisLock(redis, name), new RedisLock(redis, name)];
        const controller = new AbortController();
        const waits = locks.flatMap((l) => [
          l.acquire({ signal: controller.signal }),
          l.acquire({ signal: controller.signal }),
        ]);
        await eventually(async () => (await admin.zcard(`waitsafe:{${name}}:queue`)) === 4);
        await eventually(async () => (await grantSubscribers(name)) === 1);
        await sleep(20);
        expect(await grantSubscribers(name)).toBe(1);
        // The adapter's own connection: the one that came since.
        const subscriber = [...(await clientIds())].filter((id) => !before.has(id));
        expect(subscriber).toHaveLength(1);
        controller.abort();
        await Promise.allSettled(waits);
        await eventually(async () => (await grantSubscribers(name)) === 0, 2_000, 'unsubscribed');
        await eventually(async () => !(await clientIds()).has(subscriber[0]), 2_000, 'subscriber closed');
        await holder.release();
      });

      it('never hangs when its subscription connection is killed: the client error, or a resubscription', async () => {
        const [a, b] = [await open(), await open()];
        const name = fresh('sub-lost');
        const held = await new RedisLock(a, name).acquire();
        const lock = new RedisLock(b, name);
        const waiting = track(lock.acquire());
        await eventually(async () => (await grantSubscribers(name)) === 1);
        // Kill the subscription connection from the server side.
        const list = (await admin.client('LIST')) as string;
        const id = /id=(\d+) [^\n]* flags=P /.exec(list)?.[1];
        expect(id).toBeDefined();
        await admin.client('KILL', 'ID', id as string);
        await sleep(100);
        // node-redis reports the closed socket as an error: the queued wait rejects with it and
        // leaves the Redis queue. ioredis reconnects and resubscribes by itself: the wait goes on.
        await held.release();
        await eventually(() => waiting.status !== 'pending', 3_000, 'settled');
        if (waiting.status === 'rejected') {
          expect(waiting.reason).toBeInstanceOf(Error);
          await eventually(async () => (await exists(`waitsafe:{${name}}:queue`)) === 0, 2_000, 'left the queue');
        } else {
          await (waiting.value as Lease).release();
        }
        expect(lock.waiterCount).toBe(0);
        // It works again afterwards, with a new subscription.
        const again = await new RedisLock(a, name).acquire();
        const next = track(lock.acquire({ timeout: 5_000 }));
        await eventually(async () => (await grantSubscribers(name)) === 1);
        await again.release();
        await eventually(() => next.status === 'fulfilled', 3_000);
        await (next.value as Lease).release();
      });
    });
  });

  describe('bad input: typed errors, nothing sent', () => {
    const calls = { eval: 0, subscribe: 0 };
    const redis: RedisLike = {
      eval: () => {
        calls.eval++;
        return Promise.resolve([0]);
      },
      subscribe: () => {
        calls.subscribe++;
        return Promise.resolve(async () => {});
      },
    };
    afterEach(() => {
      expect(calls).toEqual({ eval: 0, subscribe: 0 });
    });

    it('checks the constructors', () => {
      const cases: Array<[() => unknown, ErrorConstructor, RegExp]> = [
        [() => new RedisLock(undefined as never, 'x'), TypeError, /"redis" argument/],
        [() => new RedisLock({} as never, 'x'), TypeError, /"redis" argument/],
        [() => new RedisLock(redis, '' as never), TypeError, /"name" argument must be a non-empty string/],
        [() => new RedisLock(redis, 5 as never), TypeError, /"name" argument/],
        [() => new RedisLock(redis, undefined as never), TypeError, /"name" argument/],
        [() => new RedisLock(redis, 'x', { lease: 99 }), RangeError, /"lease" option/],
        [() => new RedisLock(redis, 'x', { lease: 1.5e3 + 0.5 }), RangeError, /"lease" option/],
        [() => new RedisLock(redis, 'x', { lease: 2 ** 31 }), RangeError, /"lease" option/],
        [() => new RedisLock(redis, 'x', { lease: '1000' as never }), TypeError, /"lease" option/],
        [() => new RedisLock(redis, 'x', { name: 'y' } as never), TypeError, /Unknown option "name"/],
        [() => new RedisLock(redis, 'x', { maxWaiters: -1 }), RangeError, /"maxWaiters"/],
        [() => new RedisLock(redis, 'x', null as never), TypeError, /"options"/],
        [() => new RedisSemaphore(redis, 'x', 0), RangeError, /"permits" argument/],
        [() => new RedisSemaphore(redis, 'x', 1.5), RangeError, /"permits" argument/],
        [() => new RedisSemaphore(redis, 'x', '2' as never), TypeError, /"permits" argument/],
        [() => new RedisSemaphore(redis, 'x', undefined as never), TypeError, /"permits" argument/],
        [() => new RedisSemaphore(redis, 'x', 2, { weight: 1 } as never), TypeError, /Unknown option "weight"/],
        [() => new RedisEvent(redis, ''), TypeError, /"name" argument/],
        [() => new RedisEvent(redis, 'x', { lease: 1000 } as never), TypeError, /Unknown option "lease"/],
        [() => nodeRedis({} as never), TypeError, /"client" argument/],
        [() => ioredis(null as never), TypeError, /"client" argument/],
        [
          () => nodeRedis({ sendCommand() {}, duplicate() {} } as never, { idleTimeout: -1 }),
          RangeError,
          /idleTimeout/,
        ],
        [
          () => ioredis({ call() {}, duplicate() {} } as never, { idle: 5 } as never),
          TypeError,
          /Unknown option "idle"/,
        ],
      ];
      for (const [make, type, message] of cases) {
        expect(make, String(make)).toThrow(type);
        expect(make, String(make)).toThrow(message);
      }
    });

    it('accepts the edges of the ranges', () => {
      expect(() => new RedisLock(redis, 'x', { lease: 100 })).not.toThrow();
      expect(() => new RedisLock(redis, 'x', { lease: 2 ** 31 - 1, maxWaiters: Infinity })).not.toThrow();
      expect(() => new RedisSemaphore(redis, 'x', 1)).not.toThrow();
      expect(new RedisEvent(redis, 'x').name).toBe('x');
    });
  });
});
