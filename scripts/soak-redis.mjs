// The waitsafe/redis part of the soak run (scripts/soak.mjs): a redis-server on a free loopback
// port (through a watchdog shell, as bench/redis.mjs starts it: it stops when our end of its
// stdin closes, even if the soak is killed), and async actors on a RedisLock, a RedisSemaphore(3)
// and a RedisEvent through the `ioredis` adapter, in the main process and in one child process
// (scripts/soak-redis-child.mjs), so that grants and hand-offs cross processes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { Rec } from './soak-lib.mjs';

export const REDIS_SERVER = '/usr/bin/redis-server';
/** The adapter's idle timeout (ms): its subscription connection closes this long after its last channel. */
export const IDLE_TIMEOUT = 300;
export const NAMES = { lock: 'soak-lock', semaphore: 'soak-semaphore', event: 'soak-event' };
const TIMEOUTS = [0, 5, 20, 50, 200, 1000];
const LEASE = 5_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const pong = (port) =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
  });

/** Starts redis-server, or resolves with { skipped: why }. */
export async function startRedisServer() {
  if (!existsSync(REDIS_SERVER)) return { skipped: `no ${REDIS_SERVER} (Debian/Ubuntu: apt-get install redis-server)` };
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const watchdog = '"$0" "$@" </dev/null & pid=$!; read -r _; kill $pid; wait $pid';
  const server = spawn('/bin/sh', ['-c', watchdog, REDIS_SERVER, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  const stop = () => {
    if (!server.stdin.destroyed) server.stdin.end();
  };
  process.on('exit', stop);
  for (const deadline = performance.now() + 5_000; performance.now() < deadline; await sleep(50)) {
    if (await pong(port)) return { port, stop };
  }
  stop();
  throw new Error(`redis-server did not answer PING on port ${port}`);
}

/**
 * Starts the actors of one process on `redis` (a RedisLike: the ioredis adapter). Returns
 * { drain(), settle() }: drain sets the event (its waits end) while quiescing; settle clears it
 * afterwards, so that a quiescent server holds no event key but its counter.
 */
export function startRedisLoad(env, redis, { RedisEvent, RedisLock, RedisSemaphore }, n) {
  const lock = new RedisLock(redis, NAMES.lock, { lease: LEASE });
  const semaphore = new RedisSemaphore(redis, NAMES.semaphore, 3, { lease: LEASE });
  const event = new RedisEvent(redis, NAMES.event);
  const m = { lock: 0, semaphore: 0, lost: 0 };
  const recs = {
    lock: new Rec(env, 'RedisLock', [lock]),
    semaphore: new Rec(env, 'RedisSemaphore', [semaphore]),
    event: new Rec(env, 'RedisEvent', [event]),
  };
  const section = async (key, lease, weight, limit) => {
    m[key] += weight;
    if (m[key] > limit) env.violation('exclusion', `${recs[key].name}: ${m[key]} held of ${limit} in this process`);
    // Now and then a hold long enough for a renewal (every third of the lease).
    await (env.chance(0.01) && !env.pausing ? env.nap(LEASE / 3 + env.int(LEASE / 4)) : env.hold());
    m[key] -= weight;
    if (lease.signal.aborted) m.lost++;
    env.ops++;
    const kept = await lease.release();
    if (!kept) env.violation('redis', `${recs[key].name}: lease lost (token ${lease.token})`);
  };
  const permits = (key, p, limit) => async () => {
    const weight = key === 'semaphore' ? 1 + env.int(2) : 1;
    if (env.chance(0.1)) {
      env.ops++;
      const lease = await (key === 'semaphore' ? p.tryAcquire(weight) : p.tryAcquire());
      if (lease) await section(key, lease, weight, limit);
    } else {
      const options = env.options({ timeouts: TIMEOUTS });
      if (key === 'semaphore') options.weight = weight;
      // timeout: 0 is one round trip, not a wait: it never counts as a waiter.
      const out = await env.wait(recs[key], options, (o) => p.acquire(o), undefined, options.timeout !== 0);
      if (out.ok) await section(key, out.value, weight, limit);
    }
    await env.hold();
  };
  for (let a = 0; a < n(5); a++) {
    env.spawn('redis lock actor', permits('lock', lock, 1));
    env.spawn('redis semaphore actor', permits('semaphore', semaphore, 3));
    env.spawn('redis event waiter', async () => {
      const options = env.options({ timeouts: TIMEOUTS });
      await env.wait(recs.event, options, (o) => event.wait(o), undefined, options.timeout !== 0);
      await env.hold();
    });
  }
  env.spawn('redis event setter', async () => {
    await env.delay(5 + env.int(50));
    env.ops++;
    await event.set();
    await env.hold();
    env.ops++;
    await event.clear();
  });
  let setting;
  return {
    m,
    drain() {
      setting ??= event.set().finally(() => {
        setting = undefined;
      });
    },
    async settle() {
      await setting;
      await event.clear();
    },
  };
}

/** A connected ioredis client. */
export async function connect(Redis, port) {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/**
 * What the server holds for the soak's primitives: the keys and their sizes, the subscribers of
 * every waitsafe channel and of `grants` (the grant channels of each process), the connections.
 */
export async function serverState(probe, grants) {
  const keys = {};
  for (const key of await probe.keys('waitsafe:*')) {
    const type = await probe.type(key);
    const size = { zset: 'zcard', hash: 'hlen' }[type];
    keys[key] = size === undefined ? 1 : await probe[size](key);
  }
  const channels = await probe.call('PUBSUB', 'CHANNELS', 'waitsafe:*');
  const numsub = grants.length ? await probe.call('PUBSUB', 'NUMSUB', ...grants) : [];
  let grantSubscribers = 0;
  for (let i = 1; i < numsub.length; i += 2) grantSubscribers += Number(numsub[i]);
  const clients = Number(/connected_clients:(\d+)/.exec(await probe.info('clients'))[1]);
  return { keys, channels, grantSubscribers, clients };
}

/** The grant channels of the process whose ids start with `process`, for each of the soak's permit names. */
export function grantChannels(process) {
  return [NAMES.lock, NAMES.semaphore].map((name) => `waitsafe:{${name}}:grant:${process}`);
}

/** The problems of a quiescent server: any key but the counters, any subscriber, extra connections. */
export function quietProblems(state, baseClients) {
  const problems = [];
  const left = Object.keys(state.keys).filter((key) => !key.endsWith(':token'));
  if (left.length > 0) problems.push(`keys left: ${left.map((key) => `${key} (${state.keys[key]})`).join(', ')}`);
  if (state.channels.length > 0) problems.push(`channels still subscribed: ${state.channels.join(', ')}`);
  if (state.grantSubscribers > 0) problems.push(`PUBSUB NUMSUB of the grant channels: ${state.grantSubscribers}`);
  if (state.clients !== baseClients) problems.push(`${state.clients} connections, expected ${baseClients}`);
  return problems;
}
