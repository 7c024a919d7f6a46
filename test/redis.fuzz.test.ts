/**
 * Fuzzed arguments for `waitsafe/redis` without a Redis server (test/fuzz.ts says what is
 * checked): the constructors, over a fake RedisLike that records its calls, and the adapters
 * `nodeRedis` and `ioredis`, over fake clients that record theirs. The methods that talk to Redis
 * are tested against a server in test/redis.node.test.ts. Whatever the arguments, constructing
 * sends nothing to Redis, subscribes to nothing and starts no timer.
 */

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import { ioredis, nodeRedis, RedisEvent, RedisLock, RedisSemaphore } from '../src/redis/index.js';
import {
  anything,
  argsArb,
  assertSync,
  checkSync,
  fresh,
  integerProblems,
  limitProblems,
  Make,
  materialize,
  msProblems,
  numberArb,
  optionsArb,
  optionsProblems,
  type Problem,
  stringArb,
  typeError,
} from './fuzz.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Hostile options (a revoked Proxy, a throwing getter): a constructor or an adapter throws them. */
const hostile = { hostile: true };

/** Every call any fake received. */
const calls: string[] = [];
const record =
  (what: string) =>
  (..._args: unknown[]): Promise<never> => {
    calls.push(what);
    return new Promise<never>(() => {});
  };

/** A RedisLike (`eval` and `subscribe`) that records its calls and never answers. */
function fakeRedis(): object {
  return { eval: record('eval'), subscribe: record('subscribe') };
}

/** A node-redis client (`sendCommand`, `duplicate`) that records its calls. */
function fakeNodeRedisClient(): object {
  return { sendCommand: record('sendCommand'), duplicate: record('duplicate') };
}

/** An ioredis client (`call`, `duplicate`) that records its calls. */
function fakeIORedisClient(): object {
  return { call: record('call'), duplicate: record('duplicate') };
}

/** What the `redis` place may be given: anything, the fake, an adapter over a fake client, half a RedisLike. */
const redisArb = fc.oneof(
  anything,
  fresh('fakeRedis()', fakeRedis),
  fresh('nodeRedis(fakeClient)', () => nodeRedis(fakeNodeRedisClient() as never)),
  fresh('ioredis(fakeClient)', () => ioredis(fakeIORedisClient() as never)),
  fresh('{ eval }', () => ({ eval: record('eval') })),
  fresh('{ subscribe }', () => ({ subscribe: record('subscribe') })),
);
const validRedis = fresh('fakeRedis()', fakeRedis);

/** README: a RedisLike is an object with the functions `eval` and `subscribe`; a TypeError naming "redis" otherwise. */
function redisProblems(redis: unknown): Problem[] {
  const r = redis as { eval?: unknown; subscribe?: unknown } | null;
  return typeof r === 'object' && r !== null && typeof r.eval === 'function' && typeof r.subscribe === 'function'
    ? []
    : [typeError('"redis"')];
}

/** The name on the server: a non-empty string. */
function nameProblems(name: unknown): Problem[] {
  return typeof name === 'string' && name !== '' ? [] : [typeError('"name"')];
}

const nameArb = fc.oneof(stringArb, fc.constant(''), fc.constant('jobs'));
/** `lease`: an integer from 100 to 2^31 - 1 ms (default 30,000). */
const LEASE_FIELDS = {
  lease: fc.oneof(numberArb, fc.integer({ min: 0, max: 1_000 }), fc.constantFrom(2 ** 31 - 1, 2 ** 31)),
  maxWaiters: numberArb,
};
const LEASE_CHECKS = {
  lease: (v: unknown) => integerProblems(v, '"lease"', 100, 2 ** 31 - 1, true),
  maxWaiters: (v: unknown) => limitProblems(v, '"maxWaiters"'),
};
const EVENT_CHECKS = { maxWaiters: (v: unknown) => limitProblems(v, '"maxWaiters"') };

/** The state a construction must leave: no call to any fake, the primitives the inspector sees. */
function state(): unknown[] {
  return [calls.length, snapshot().primitives];
}

describe('constructors', () => {
  let stopTracking: () => void = () => {};
  beforeAll(() => {
    stopTracking = trackWaiters();
  });
  afterAll(() => stopTracking());

  /** Whatever happens, nothing is sent or subscribed, and no timer is started. */
  function nothingSent(): void {
    expect(calls).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  }

  it('new RedisLock(redis, name, options)', () => {
    assertSync(
      [
        argsArb(
          [redisArb, nameArb, optionsArb(LEASE_FIELDS, hostile)],
          [validRedis, fc.constant('jobs'), fc.constant(undefined)],
        ),
      ],
      ([r, name, o]) => {
        const redis = materialize(r);
        const options = materialize(o);
        checkSync({
          call: () => new RedisLock(redis as never, name as never, options as never),
          problems: [...redisProblems(redis), ...nameProblems(name), ...optionsProblems(options, LEASE_CHECKS)],
          state,
          succeeded: (lock) => {
            expect(lock.name).toBe(name);
            expect(lock.waiterCount).toBe(0);
          },
          leftovers: nothingSent,
        });
      },
    );
  });

  it('new RedisSemaphore(redis, name, permits, options)', () => {
    assertSync(
      [
        argsArb(
          [redisArb, nameArb, numberArb, optionsArb(LEASE_FIELDS, hostile)],
          [validRedis, fc.constant('jobs'), fc.integer({ min: 1, max: 8 }), fc.constant(undefined)],
        ),
      ],
      ([r, name, permits, o]) => {
        const redis = materialize(r);
        const options = materialize(o);
        checkSync({
          call: () => new RedisSemaphore(redis as never, name as never, permits as never, options as never),
          // `permits`: an integer >= 1, required.
          problems: [
            ...redisProblems(redis),
            ...nameProblems(name),
            ...integerProblems(permits, '"permits"', 1),
            ...optionsProblems(options, LEASE_CHECKS),
          ],
          state,
          succeeded: (semaphore) => expect(semaphore.name).toBe(name),
          leftovers: nothingSent,
        });
      },
    );
  });

  it('new RedisEvent(redis, name, options)', () => {
    assertSync(
      [
        argsArb(
          [redisArb, nameArb, optionsArb({ maxWaiters: numberArb }, hostile)],
          [validRedis, fc.constant('jobs'), fc.constant(undefined)],
        ),
      ],
      ([r, name, o]) => {
        const redis = materialize(r);
        const options = materialize(o);
        checkSync({
          call: () => new RedisEvent(redis as never, name as never, options as never),
          problems: [...redisProblems(redis), ...nameProblems(name), ...optionsProblems(options, EVENT_CHECKS)],
          state,
          succeeded: (event) => expect(event.name).toBe(name),
          leftovers: nothingSent,
        });
      },
    );
  });
});

describe.each([
  ['nodeRedis', nodeRedis, ['sendCommand', 'duplicate'], fakeNodeRedisClient],
  ['ioredis', ioredis, ['call', 'duplicate'], fakeIORedisClient],
] as const)('%s(client, options)', (name, adapter, methods, fakeClient) => {
  /** A client missing one of the methods the adapter needs. */
  const partial = fc
    .constantFrom(...methods)
    .map((missing) => new Make(`client without ${missing}`, () => ({ ...fakeClient(), [missing]: 'not a function' })));
  const clientArb = fc.oneof(anything, fresh('fakeClient()', fakeClient), partial);

  it(`${name}(client, options)`, () => {
    assertSync(
      [
        argsArb(
          [clientArb, optionsArb({ idleTimeout: numberArb }, hostile)],
          [fresh('fakeClient()', fakeClient), fc.constant(undefined)],
        ),
      ],
      ([c, o]) => {
        const client = materialize(c);
        const options = materialize(o);
        const c2 = client as Record<string, unknown> | null;
        checkSync({
          call: () => adapter(client as never, options as never),
          // `client`: an object with the client's methods; `options`: `{ idleTimeout }`, ms >= 0.
          problems: [
            ...(typeof c2 === 'object' && c2 !== null && methods.every((m) => typeof c2[m] === 'function')
              ? []
              : [typeError('"client"')]),
            ...optionsProblems(options, { idleTimeout: (v) => msProblems(v, '"idleTimeout"') }),
          ],
          state,
          succeeded: (redis) => {
            expect(typeof redis.eval).toBe('function');
            expect(typeof redis.subscribe).toBe('function');
          },
          leftovers: () => {
            expect(calls).toEqual([]);
            expect(vi.getTimerCount()).toBe(0);
          },
        });
      },
    );
  });
});
