/**
 * The adapters of `waitsafe/redis` (`nodeRedis`, `ioredis`) against a real `redis-server`, with
 * both client libraries: how they run scripts (`EVALSHA`, `EVAL` on `NOSCRIPT`, never a retry of a
 * script that failed) and how they share one subscription connection (one `SUBSCRIBE` per
 * channel, `UNSUBSCRIBE` once its last subscriber leaves, the connection closed when idle, the
 * subscribers told when it fails). What Redis holds is read with an admin client.
 *
 * Skipped where `redis-server` is not installed (`hasRedis`).
 */

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha1 } from '../src/redis/sha1.js';
import { rejectionOf } from './helpers.js';
import { CLIENTS, connectionsOf } from './redis-clients.js';
import { hasRedis, INSTALL_HINT, type RedisServer, startRedis } from './redis-server.js';

if (!hasRedis) {
  process.stderr.write(`redis-adapters.node.test.ts: skipped, redis-server is not installed: ${INSTALL_HINT}\n`);
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
const fresh = (what: string) => `test:adapters:${what}:${++names}`;

describe('sha1', () => {
  it('gives every word of the digest its 8 hex digits, leading zeros included', () => {
    // Each digest has a 32-bit word below 0x10000000 (its 8 hex digits begin with 0): words 1, 2 and 4; 3; 1; 5.
    const texts = ['return 0', 'return 1', 'return 3', 'return 8'];
    for (const text of texts) expect(sha1(text)).toBe(createHash('sha1').update(text, 'utf8').digest('hex'));
    expect(sha1('return 0')).toBe('06d3d9b2060dd51343d5f19f0e531f15c507e3d1');
  });
});

describe.skipIf(!hasRedis)('the adapters against redis-server', () => {
  let server: RedisServer;
  /** A raw client to inspect keys, scripts and subscriptions, apart from the ones under test. */
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

  const numsub = async (channel: string) => Number(((await admin.pubsub('NUMSUB', channel)) as unknown[])[1]);
  /** The ids of the connections to the server now, and of those subscribed to something. */
  const clients = async () => {
    const list = (await admin.client('LIST')) as string;
    const all = new Set([...list.matchAll(/^id=(\d+) /gm)].map((m) => m[1] as string));
    const subscribed = new Set([...list.matchAll(/^id=(\d+) .* flags=P /gm)].map((m) => m[1] as string));
    return { all, subscribed };
  };
  /** How many times the server ran `command` since its statistics were last reset. */
  const calls = async (command: string) => {
    const info = await admin.info('commandstats');
    return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  };

  describe.each(CLIENTS)('with the $name client', (kind) => {
    /** A new connection (adapter), closed after the test. */
    const open = connectionsOf(kind, () => server.url);

    describe('eval', () => {
      it('runs a script the server does not know by EVAL, then by EVALSHA alone', async () => {
        const redis = await open();
        const key = fresh('eval');
        await admin.script('FLUSH');
        const script = "return {redis.call('INCRBY', KEYS[1], ARGV[1]), ARGV[2]}";
        await admin.config('RESETSTAT');
        expect(await redis.eval(script, [key], ['5', 'b'])).toEqual([5, 'b']);
        expect(await calls('eval')).toBe(1);
        expect(await calls('evalsha')).toBe(1);
        expect(await redis.eval(script, [key], ['2', 'c'])).toEqual([7, 'c']);
        expect(await calls('eval')).toBe(1);
        expect(await calls('evalsha')).toBe(2);
      });

      it('sends the SHA-1 Redis has for the script, leading zeros included', async () => {
        const redis = await open();
        // Its SHA-1 begins with a 0: 06d3d9b2…
        const script = 'return 0';
        expect(await admin.script('LOAD', script)).toBe(createHash('sha1').update(script).digest('hex'));
        await admin.config('RESETSTAT');
        expect(await redis.eval(script, [], [])).toBe(0);
        expect(await calls('evalsha')).toBe(1);
        expect(await calls('eval')).toBe(0);
      });

      it('rejects with the error of a script that fails, without running it again', async () => {
        const redis = await open();
        const key = fresh('fails');
        const script = "redis.call('INCR', KEYS[1]); return redis.error_reply('ERR boom')";
        // Known to the server, and not yet: neither runs it twice.
        expect(((await rejectionOf(redis.eval(script, [key], []))) as Error).message).toMatch(/boom/);
        expect(await admin.get(key)).toBe('1');
        expect(((await rejectionOf(redis.eval(script, [key], []))) as Error).message).toMatch(/boom/);
        expect(await admin.get(key)).toBe('2');
      });
    });

    describe('subscribe', () => {
      it('shares one SUBSCRIBE per channel, and sends UNSUBSCRIBE once its last subscriber leaves', async () => {
        const redis = await open({ idleTimeout: Number.POSITIVE_INFINITY });
        const channel = fresh('channel');
        const got: string[] = [];
        const first = await redis.subscribe(channel, (m) => got.push(`first ${m}`));
        const second = await redis.subscribe(channel, (m) => got.push(`second ${m}`));
        expect(await numsub(channel)).toBe(1);
        await admin.publish(channel, 'a');
        await eventually(() => got.length === 2, 3_000, 'delivered');
        expect(got.sort()).toEqual(['first a', 'second a']);
        await first();
        expect(await numsub(channel)).toBe(1);
        await admin.publish(channel, 'b');
        await eventually(() => got.length === 3, 3_000, 'delivered');
        expect(got[2]).toBe('second b');
        await second();
        expect(await numsub(channel)).toBe(0);
        // The connection stays open (idleTimeout: Infinity), subscribed to nothing.
        expect((await clients()).subscribed.size).toBe(0);
      });

      it('closes its connection idleTimeout ms after the last subscription ends, and opens a new one when needed', async () => {
        const redis = await open({ idleTimeout: 30 });
        const before = (await clients()).all;
        const channel = fresh('idle');
        const unsubscribe = await redis.subscribe(channel, () => {});
        const mine = [...(await clients()).all].filter((id) => !before.has(id));
        expect(mine).toHaveLength(1);
        await unsubscribe();
        await eventually(async () => !(await clients()).all.has(mine[0] as string), 3_000, 'closed');
        const got: string[] = [];
        const again = await redis.subscribe(channel, (m) => got.push(m));
        await admin.publish(channel, 'x');
        await eventually(() => got.length === 1, 3_000, 'delivered');
        await again();
      });

      it('tells every subscriber when its connection fails, or goes on once the client resubscribes', async () => {
        const redis = await open();
        const channels = [fresh('lost'), fresh('lost')];
        const errors: unknown[] = [];
        const got: string[] = [];
        const unsubscribes = [
          await redis.subscribe(channels[0] as string, (m) => got.push(m)),
          ...(await Promise.all(
            channels.map((channel) =>
              redis.subscribe(
                channel,
                (m) => got.push(m),
                (error) => errors.push(error),
              ),
            ),
          )),
        ];
        const [id] = (await clients()).subscribed;
        await admin.client('KILL', 'ID', id as string);
        if (kind.name === 'redis') {
          // node-redis reports the closed socket as an error: each subscriber with onError hears it.
          await eventually(() => errors.length === 2, 3_000, 'told');
          for (const error of errors) expect(error).toBeInstanceOf(Error);
          expect(errors[0]).toBe(errors[1]);
        } else {
          // ioredis reconnects and resubscribes by itself: the subscriptions go on.
          await eventually(async () => (await numsub(channels[1] as string)) === 1, 3_000, 'resubscribed');
          await admin.publish(channels[1] as string, 'after');
          await eventually(() => got.length === 1, 3_000, 'delivered');
          expect(errors).toEqual([]);
        }
        for (const unsubscribe of unsubscribes) await unsubscribe();
        // Whatever happened, a new subscription works.
        const again = await redis.subscribe(channels[0] as string, (m) => got.push(`again ${m}`));
        await admin.publish(channels[0] as string, 'x');
        await eventually(() => got.includes('again x'), 3_000, 'delivered');
        await again();
      });
    });
  });
});
