// One process of bench/redis.mjs: `node bench/redis-worker.mjs <port> <library>`, driven over IPC
// by its parent (requests { id, op, ...args }, replies { id, value } or { id, error }). It holds
// its own connection(s) to the bench's Redis on 127.0.0.1:<port> and one lock, named `bench`,
// of one library. Times are process.hrtime (CLOCK_MONOTONIC, one clock for every process of the
// machine), in ms, so the parent can subtract a release time of one process from a grant time
// of another.
const [port, library] = [Number(process.argv[2]), process.argv[3]];
const NAME = 'bench';
const LEASE = 5_000; // lease / lockTimeout / ttl of every library, ms
const WAITSAFE = '../dist/esm/redis/index.js';
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function ioredisClient() {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await client.connect();
  return client;
}

/** waitsafe's RedisLock on `redis` (an adapter); mode: 'wait' | 'timeout' | 'signal'. */
async function waitsafe(client, adapter) {
  const { RedisLock } = await import(WAITSAFE);
  const lock = new RedisLock(adapter(client), NAME, { lease: LEASE });
  const options = {
    wait: () => undefined,
    timeout: (ms) => ({ timeout: ms }),
    signal: (ms) => ({ signal: AbortSignal.timeout(ms) }),
  };
  return {
    ping: () => client.ping(),
    async acquire(mode, ms) {
      const lease = await lock.acquire(options[mode](ms));
      return () => lease.release();
    },
    close: () => client.quit(),
  };
}

/** Each library: acquire(mode, ms) resolves to its release function. 'wait' waits until granted. */
const LIBRARIES = {
  'waitsafe-ioredis': async () => waitsafe(await ioredisClient(), (await import(WAITSAFE)).ioredis),
  async 'waitsafe-redis'() {
    const { createClient } = await import('redis');
    const client = createClient({ socket: { host: '127.0.0.1', port } });
    await client.connect();
    return waitsafe(client, (await import(WAITSAFE)).nodeRedis);
  },
  /**
   * The floor of any lock woken by push: the smallest Redis mutex that hands over by PUBLISH.
   * One tiny script takes the lock or queues this process; release() pops the next process and
   * publishes to its own channel. No lease, no crash safety, no cancellation: only the hand-off
   * path (a script that publishes, one subscriber woken), for the hand-off table.
   */
  async 'push-floor'() {
    const client = await ioredisClient();
    const subscriber = client.duplicate();
    const me = String(process.pid);
    let wake;
    subscriber.on('message', () => wake?.());
    await subscriber.subscribe(`floor:${me}`);
    const TAKE =
      "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end redis.call('RPUSH', KEYS[2], ARGV[1]) return 0";
    const GIVE =
      "local n = redis.call('LPOP', KEYS[2]) if n then redis.call('SET', KEYS[1], n) redis.call('PUBLISH', 'floor:' .. n, '1') else redis.call('DEL', KEYS[1]) end return 0";
    return {
      ping: () => client.ping(),
      async acquire() {
        const woken = new Promise((resolve) => {
          wake = resolve;
        });
        if ((await client.eval(TAKE, 2, 'floor:held', 'floor:queue', me)) === 1)
          return () => client.eval(GIVE, 2, 'floor:held', 'floor:queue');
        await woken;
        return () => client.eval(GIVE, 2, 'floor:held', 'floor:queue');
      },
      close: () => Promise.all([client.quit(), subscriber.quit()]),
    };
  },
  async 'redis-semaphore'() {
    const client = await ioredisClient();
    const { Mutex } = await import('redis-semaphore');
    // Defaults otherwise (retryInterval 10 ms); acquireTimeout long enough to mean "wait".
    const options = { lockTimeout: LEASE, acquireTimeout: 60_000, onLockLost() {} };
    return {
      ping: () => client.ping(),
      async acquire(mode, ms) {
        const mutex = new Mutex(client, NAME, mode === 'timeout' ? { ...options, acquireTimeout: ms } : options);
        await mutex.acquire(mode === 'signal' ? AbortSignal.timeout(ms) : undefined);
        return () => mutex.release();
      },
      close: () => client.quit(),
    };
  },
  async redlock() {
    const client = await ioredisClient();
    const { Redlock } = await import('@sesamecare-oss/redlock');
    // The README's retry settings; retryCount -1 ("unlimited retries until the lock is acquired").
    const redlock = new Redlock([client], { retryCount: -1, retryDelay: 200, retryJitter: 200 });
    redlock.on('error', () => {}); // it emits every "resource locked" vote; unhandled, that would throw
    return {
      ping: () => client.ping(),
      async acquire(mode, ms) {
        const settings = mode === 'timeout' ? { retryCount: 1, retryDelay: ms, retryJitter: 0 } : undefined;
        if (mode === 'signal') throw new Error('redlock: acquire() takes no signal');
        const lock = await redlock.acquire([`redlock:${NAME}`], LEASE, settings);
        return () => lock.release();
      },
      close: () => client.quit(),
    };
  },
};

const lib = await LIBRARIES[library]();
let release; // of the lock this process holds
const orphans = { granted: 0, rejected: 0 }; // abandoned acquires that settled later
/** Timers that keep this process alive (unref'd ones, such as waitsafe's heartbeat, are not listed). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.on('unhandledRejection', () => {});
process.on('disconnect', () => process.exit(0)); // the bench ended or died

const OPS = {
  /** `n` PINGs: back to back, or each after `idle` ms of idleness (random, idle[0]..idle[1]). */
  async ping({ n, idle }) {
    for (let i = 0; i < 50; i++) await lib.ping();
    const samples = [];
    for (let i = 0; i < n; i++) {
      if (idle) await sleep(idle[0] + Math.random() * (idle[1] - idle[0]));
      const t0 = now();
      await lib.ping();
      samples.push(now() - t0);
    }
    return samples;
  },
  /** Acquires (waiting as long as it takes) and keeps the lock; resolves to [asked, granted]. */
  async hold() {
    const asked = now();
    release = await lib.acquire('wait');
    return [asked, now()];
  },
  /** Releases the lock held; the time is taken just before the release call. */
  async release() {
    const t = now();
    await release();
    release = undefined;
    return t;
  },
  /** From `start` until `until` (shared clock): acquire -> tiny work -> release, on the one name. */
  async loop({ start, until }) {
    await sleep(Math.max(0, start - now()));
    const ops = []; // [asked, granted, released] per op
    let work = 0;
    while (now() < until) {
      const asked = now();
      const done = await lib.acquire('wait');
      const granted = now();
      for (let i = 0; i < 100; i++) work += i; // the tiny work
      await null;
      ops.push([asked, granted, now()]);
      await done();
    }
    return { ops, work };
  },
  /** Starts `count` acquires while another process holds the lock and abandons them all. */
  async abandon({ mode, count, ms }) {
    const before = timers();
    const waits = [];
    for (let i = 0; i < count; i++) {
      if (mode === 'race') {
        const acquired = lib.acquire('wait');
        acquired.then(
          () => orphans.granted++, // a grant nobody takes: never released
          () => orphans.rejected++,
        );
        waits.push(Promise.race([acquired, sleep(ms)]));
      } else {
        // A grant despite the limit is the caller's: it releases it.
        waits.push(
          lib.acquire(mode, ms).then(
            (done) => done(),
            () => {},
          ),
        );
      }
    }
    await Promise.all(waits);
    return { timersBefore: before };
  },
  state: () => ({ timers: timers(), ...orphans }),
};

process.on('message', async ({ id, op, ...args }) => {
  try {
    process.send({ id, value: await OPS[op](args) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
process.send({ ready: true });
