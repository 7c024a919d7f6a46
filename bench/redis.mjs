// waitsafe/redis against the Redis lock libraries people use, across real processes, on a
// redis-server this file starts on a free loopback port (and stops at the end). Run with
// `npm run bench -- redis` (builds dist/ first); needs /usr/bin/redis-server.
//
// Every process is a bench/redis-worker.mjs child with its own connection(s), holding one lock
// named `bench` of one library: waitsafe RedisLock (through ioredis and through node-redis),
// redis-semaphore 5.8 Mutex (polls every 10 ms, its default) and @sesamecare-oss/redlock 1.4
// (retryDelay 200 ms, retryJitter 200 ms, from its README; retryCount -1, unlimited). All with a
// 5 s lease. Times are process.hrtime, CLOCK_MONOTONIC: one clock for every process.
//
// 1. Hand-off latency: process A holds the lock, process B asks for it, A releases 5-30 ms later
//    (random); the figure is B's grant time minus the time A called release(). Then B holds and
//    A asks. Also with 3 processes waiting. Given in ms and in Redis round trips: the p50 of
//    PINGs on the same clients, each sent after 5-30 ms of idleness as a release is (back to
//    back, a PING skips the wake-ups of an idle process and server: that figure is shown too).
// 2. Contended throughput: 4 processes loop acquire -> tiny work -> release on the one lock for
//    a few seconds; ops/s in total, per process, the time each acquire waited, how often the
//    next holder was another process, and the Redis commands per op.
// 3. What 1,000 abandoned acquires leave behind: process H holds the lock, process W starts
//    1,000 acquires and abandons them all (Promise.race against a 100 ms timer, or the library's
//    own limit of 100 ms). 250 ms later: Redis keys and entries beyond those of H's lock,
//    subscribers (PUBSUB NUMSUB / SHARDNUMSUB over every channel), connections, the commands per
//    second Redis still receives (INFO commandstats over 1 s), the timers keeping W alive
//    (connections and timers again 3 s after the abandon); then H releases and a third process
//    acquires, at once and again 250 ms after releasing: the time each acquire() took (capped at
//    6 s), and how many abandoned acquires were granted by then, to nobody.
//
// BENCH_REDIS_SCALE=0.2 scales the samples and the loop time down for a quick check;
// BENCH_REDIS_LIBS=redis-semaphore,redlock runs only those libraries.
//
// It prints the targets with pass/MISS and exits 0 either way: a measurement, not a test.
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { banner, command, printTable, printTargets } from './harness.mjs';

const REDIS_SERVER = '/usr/bin/redis-server';
if (!existsSync(REDIS_SERVER)) {
  console.log(`bench/redis.mjs skipped: no ${REDIS_SERVER} (Debian/Ubuntu: apt-get install redis-server)`);
  process.exit(0);
}
const SCALE = Number(process.env.BENCH_REDIS_SCALE ?? 1); // < 1 for a quick check
const ABANDONED = 1_000;
const ABANDON_MS = 100;
const NEXT_CAP = 6_000; // ms; the lease is 5 s
const LATER = 3_000; // ms after the abandon: connections and timers again (idle connections close after 2 s)
const IDLE = [5, 30]; // ms: how long the holder holds before a hand-off, and a PING's idle time before it
const LOOP_SECONDS = Math.max(1, Math.round(3 * SCALE));

/** The cases: one row per library; `abandon` lists its ways to give up a wait (mode -> how). */
const LIBRARIES = [
  {
    lib: 'waitsafe-ioredis',
    label: 'waitsafe RedisLock (ioredis)',
    waitsafe: true,
    samples: 300,
    abandon: { timeout: 'acquire({ timeout: 100 })', signal: 'acquire({ signal: AbortSignal.timeout(100) })' },
  },
  {
    lib: 'waitsafe-redis',
    label: 'waitsafe RedisLock (redis)',
    waitsafe: true,
    samples: 300,
    abandon: { timeout: 'acquire({ timeout: 100 })', signal: 'acquire({ signal: AbortSignal.timeout(100) })' },
  },
  {
    // Only in the hand-off table: see bench/redis-worker.mjs.
    lib: 'push-floor',
    label: 'floor: a 2-line script + PUBLISH',
    floor: true,
    samples: 300,
  },
  {
    lib: 'redis-semaphore',
    label: 'redis-semaphore Mutex',
    samples: 300,
    abandon: { timeout: '{ acquireTimeout: 100 }', signal: 'acquire(AbortSignal.timeout(100))' },
  },
  {
    lib: 'redlock',
    label: '@sesamecare-oss/redlock',
    samples: 100,
    abandon: { timeout: '{ retryCount: 1, retryDelay: 100 }' },
  },
];
const only = process.env.BENCH_REDIS_LIBS?.split(','); // e.g. redis-semaphore,redlock: only those
if (only) LIBRARIES.splice(0, Infinity, ...LIBRARIES.filter((l) => only.includes(l.lib)));
const ABANDON_MODES = [
  ['none', () => 'nothing abandoned (baseline)'],
  ['race', () => 'Promise.race, 100 ms timer'],
  ['timeout', (l) => l.abandon.timeout],
  ['signal', (l) => l.abandon.signal],
];

// ---------------------------------------------------------------------------------------------
// Processes: the server, the workers, a probe connection

const here = dirname(fileURLToPath(import.meta.url));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

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

async function startServer() {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  // Through a watchdog shell: the server stops when our end of its stdin closes, even if this
  // process is killed.
  const watchdog = '"$0" "$@" </dev/null & pid=$!; read -r _; kill $pid; wait $pid';
  const server = spawn('/bin/sh', ['-c', watchdog, REDIS_SERVER, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  for (const deadline = now() + 5_000; now() < deadline; await sleep(50)) {
    if (await pong(port)) return { port, server };
  }
  throw new Error(`redis-server did not answer PING on port ${port}`);
}

function worker(port, lib) {
  const child = fork(join(here, 'redis-worker.mjs'), [String(port), lib], { execArgv: [] });
  children.add(child);
  const pending = new Map();
  let next = 0;
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`worker ${lib} exited (${code})`)));
  });
  child.on('message', ({ id, value, error }) => {
    pending.get(id)?.[error === undefined ? 0 : 1](error === undefined ? value : new Error(error));
    pending.delete(id);
  });
  child.on('exit', () => {
    children.delete(child);
    for (const [, reject] of pending.values()) reject(new Error(`worker ${lib} exited`));
  });
  return {
    ready,
    call: (op, args = {}) =>
      new Promise((resolve, reject) => {
        pending.set(next, [resolve, reject]);
        child.send({ id: next++, op, ...args });
      }),
    kill: () => child.kill('SIGKILL'),
  };
}

async function workers(port, lib, count) {
  const list = Array.from({ length: count }, () => worker(port, lib));
  await Promise.all(list.map((w) => w.ready));
  return list;
}

const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
};
const ms = (v) =>
  v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US');
const int = (v) => Math.round(v).toLocaleString('en-US');
const signed = (v) => (v > 0 ? `+${int(v)}` : int(v));

// ---------------------------------------------------------------------------------------------
// 1. Hand-off latency: `count` processes in turn, all but the holder waiting

async function handOff(port, l, count) {
  const list = await workers(port, l.lib, count);
  const pings = async (args) => quantile((await Promise.all(list.map((w) => w.call('ping', args)))).flat(), 0.5);
  const hot = await pings({ n: 300 });
  const rtt = await pings({ n: 100, idle: IDLE });
  const waiting = new Map();
  const ask = (w) =>
    waiting.set(
      w,
      w.call('hold').then(([, granted]) => [w, granted]),
    );
  let holder = list[0];
  await holder.call('hold');
  for (const w of list.slice(1)) ask(w);
  const samples = [];
  for (let i = 0; i < Math.max(20, Math.round(l.samples * SCALE)); i++) {
    await sleep(IDLE[0] + Math.random() * (IDLE[1] - IDLE[0]));
    const released = await holder.call('release');
    const [next, granted] = await Promise.race(waiting.values());
    samples.push(granted - released);
    waiting.delete(next);
    ask(holder);
    holder = next;
  }
  for (const w of list) w.kill();
  for (const p of waiting.values()) p.catch(() => {});
  return { hot, rtt, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), n: samples.length };
}

// ---------------------------------------------------------------------------------------------
// 2. Contended throughput, 4 processes

async function throughput(port, probe, l) {
  const list = await workers(port, l.lib, 4);
  const start = now() + 300;
  const before = await commands(probe);
  const results = await Promise.all(list.map((w) => w.call('loop', { start, until: start + LOOP_SECONDS * 1000 })));
  const sent = await commands(probe);
  for (const w of list) w.kill();
  const ops = results.flatMap((r, p) => r.ops.map(([asked, granted, released]) => ({ p, asked, granted, released })));
  ops.sort((x, y) => x.granted - y.granted);
  let hands = 0;
  let overlaps = 0; // a grant before the previous holder's release: must stay 0
  for (let i = 1; i < ops.length; i++) {
    if (ops[i].granted < ops[i - 1].released) overlaps++;
    if (ops[i].p !== ops[i - 1].p) hands++;
  }
  const waits = ops.map((o) => o.granted - o.asked);
  return {
    opsPerSecond: (ops.length * 1000) / (Math.max(...ops.map((o) => o.released)) - start),
    perProcess: results.map((r) => r.ops.length),
    wait50: quantile(waits, 0.5),
    wait99: quantile(waits, 0.99),
    waitMax: Math.max(...waits),
    handShare: hands / Math.max(1, ops.length - 1),
    perOp: [(sent.scripts - before.scripts - 0) / ops.length, (sent.all - before.all - 1) / ops.length],
    overlaps,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. What 1,000 abandoned acquires leave behind

async function snapshot(probe) {
  const keys = {};
  for (const key of await probe.keys('*')) {
    const type = await probe.type(key);
    const size = { list: 'llen', zset: 'zcard', hash: 'hlen', set: 'scard', stream: 'xlen' }[type];
    keys[key] = size === undefined ? 1 : await probe[size](key);
  }
  let subscribers = 0;
  for (const [list, numsub] of [
    ['CHANNELS', 'NUMSUB'],
    ['SHARDCHANNELS', 'SHARDNUMSUB'],
  ]) {
    const channels = await probe.call('PUBSUB', list, '*');
    const counts = channels.length ? await probe.call('PUBSUB', numsub, ...channels) : [];
    for (let i = 1; i < counts.length; i += 2) subscribers += Number(counts[i]);
  }
  subscribers += Number(await probe.call('PUBSUB', 'NUMPAT'));
  const clients = Number(/connected_clients:(\d+)/.exec(await probe.info('clients'))[1]);
  return { keys, subscribers, clients };
}

/** Commands processed so far (those scripts call included), and script calls (EVAL, EVALSHA). */
async function commands(probe) {
  const stats = await probe.info('commandstats');
  let all = 0;
  let scripts = 0;
  for (const [, name, calls] of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    all += Number(calls);
    if (name === 'eval' || name === 'evalsha') scripts += Number(calls);
  }
  return { all, scripts };
}

async function leftovers(port, probe, l, mode) {
  await probe.flushall();
  const [holder, abandoner, next] = await workers(port, l.lib, 3);
  await next.call('ping', { n: 100 });
  await next.call('hold'); // warm: its first acquire loads code and scripts
  await next.call('release');
  await holder.call('hold');
  const base = await snapshot(probe);
  const { timersBefore } = await abandoner.call('abandon', {
    mode,
    count: mode === 'none' ? 0 : ABANDONED,
    ms: ABANDON_MS,
  });
  const abandonedAt = now();
  await sleep(250);
  const after = await snapshot(probe);
  const c0 = await commands(probe);
  await sleep(1_000);
  const c1 = await commands(probe);
  const { timers } = await abandoner.call('state');
  await holder.call('release');
  // Two acquires: right after H's release, then 250 ms after its own (an abandoned acquire that
  // polls may lose the race for the first, and takes the lock while it is free).
  const times = [];
  let capped = false;
  for (let i = 0; i < 2 && !capped; i++) {
    if (i > 0) {
      await next.call('release');
      await sleep(250);
    }
    const granted = next.call('hold');
    granted.catch(() => {});
    const took = await Promise.race([granted, sleep(NEXT_CAP).then(() => undefined)]);
    capped = took === undefined;
    times.push(capped ? `> ${NEXT_CAP / 1000} s` : `${ms(took[1] - took[0])} ms`);
  }
  const { granted: orphansGranted } = await abandoner.call('state');
  if (capped) next.kill(); // still waiting: neither it nor its connections count 3 s later
  await sleep(Math.max(100, abandonedAt + LATER - now()));
  const later = { ...(await snapshot(probe)), ...(await abandoner.call('state')) };
  for (const w of [holder, abandoner, next]) w.kill();
  const newKeys = Object.keys(after.keys).filter((k) => !(k in base.keys)).length;
  const entries = Object.entries(after.keys).reduce((sum, [k, n]) => sum + n - (base.keys[k] ?? 0), 0);
  return {
    keys: newKeys === 0 && entries === 0 ? '0' : `${signed(newKeys)} (${signed(entries)} entries)`,
    subscribers: signed(after.subscribers - base.subscribers),
    clients: `${signed(after.clients - base.clients)} / ${signed(later.clients - base.clients + (capped ? 1 : 0))}`,
    perSecond: `${int(c1.all - c0.all - 1)} (${int(c1.scripts - c0.scripts)})`,
    timers: `${signed(timers - timersBefore)} / ${signed(later.timers - timersBefore)}`,
    next: times.join(' / '),
    orphansGranted,
  };
}

// ---------------------------------------------------------------------------------------------
// Run

banner('figures in ms unless noted; one redis-server on loopback, every process its own connections');
const started = performance.now();
const { port, server } = await startServer();
const probe = new Redis({ host: '127.0.0.1', port });
const version = /redis_version:(\S+)/.exec(await probe.info('server'))[1];
console.log(`redis-server ${version} on 127.0.0.1:${port} (--save '' --appendonly no)`);

const WAITERS = [1, 3];
const hand = {};
for (const l of LIBRARIES) {
  for (const waiters of WAITERS) {
    await probe.flushall();
    hand[`${l.lib} ${waiters}`] = await handOff(port, l, waiters + 1);
  }
}
printTable(
  '### Hand-off across processes: release() in one process to the grant in another',
  [
    'library',
    'waiting',
    'samples',
    'PING p50 back to back',
    'PING p50 after 5-30 ms idle',
    'hand-off p50',
    'p99',
    'p50 in round trips',
    'p99 in round trips',
  ],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  LIBRARIES.flatMap((l) =>
    WAITERS.map((waiters) => {
      const h = hand[`${l.lib} ${waiters}`];
      const trips = (v) => (v / h.rtt).toFixed(1);
      return [
        l.label,
        String(waiters),
        String(h.n),
        ms(h.hot),
        ms(h.rtt),
        ms(h.p50),
        ms(h.p99),
        trips(h.p50),
        trips(h.p99),
      ];
    }),
  ),
);
console.log(
  '\nA round trip is the p50 of PINGs on the same clients, each sent after 5-30 ms of idleness as a ' +
    'release is; back to back, a PING skips the wake-ups of an idle process and server.',
);

const LOCKS = LIBRARIES.filter((l) => !l.floor);
const load = {};
for (const l of LOCKS) {
  await probe.flushall();
  load[l.lib] = await throughput(port, probe, l);
}
printTable(
  `### Contended throughput: 4 processes, acquire -> tiny work -> release on one lock, ${LOOP_SECONDS} s`,
  [
    'library',
    'ops/s',
    'ops per process',
    'wait p50',
    'wait p99',
    'wait max',
    'next holder in another process',
    'Redis commands (scripts) per op',
    'overlaps',
  ],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  LOCKS.map((l) => {
    const t = load[l.lib];
    return [
      l.label,
      int(t.opsPerSecond),
      t.perProcess.map(int).join(' / '),
      ms(t.wait50),
      ms(t.wait99),
      ms(t.waitMax),
      `${(t.handShare * 100).toFixed(0)}%`,
      `${t.perOp[1].toFixed(1)} (${t.perOp[0].toFixed(1)})`,
      String(t.overlaps),
    ];
  }),
);
console.log(
  '\nRedis commands count those a script calls, and the INFO of the probe; overlaps (a grant before the ' +
    "previous holder's release call) must be 0.",
);

const rows = [];
for (const l of LOCKS) {
  for (const [mode, how] of ABANDON_MODES) {
    if (how(l) === undefined) continue;
    const r = await leftovers(port, probe, l, mode);
    rows.push([
      l.label,
      how(l),
      r.keys,
      r.subscribers,
      r.clients,
      r.perSecond,
      r.timers,
      int(r.orphansGranted),
      r.next,
    ]);
  }
}
printTable(
  `### Left behind by ${int(ABANDONED)} acquires abandoned while another process holds the lock`,
  [
    'library',
    'abandoned with',
    'Redis keys',
    'subscribers',
    'connections, then 3 s later',
    'Redis commands (scripts)/s',
    'timers keeping W alive, then 3 s later',
    'granted to nobody',
    'next acquire: time to grant, then again 250 ms after a release',
  ],
  ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  rows,
);

// ---------------------------------------------------------------------------------------------
// Targets

const targets = [];
const peers = LOCKS.filter((l) => !l.waitsafe);
for (const l of LIBRARIES.filter((x) => x.waitsafe)) {
  const h = hand[`${l.lib} 1`];
  targets.push({
    target: `${l.label}: hand-off p50 within 3 round trips`,
    limit: '<= 3 round trips (PING after 5-30 ms idle)',
    value: Number((h.p50 / h.rtt).toFixed(1)),
    max: 3,
    format: (v) => `${v.toFixed(1)} (${ms(h.p50)} ms; PING ${ms(h.rtt)} ms after idle, ${ms(h.hot)} back to back)`,
  });
  for (const p of peers) {
    for (const waiters of WAITERS) {
      const [mine, theirs] = [hand[`${l.lib} ${waiters}`].p50, hand[`${p.lib} ${waiters}`].p50];
      targets.push({
        target: `${l.label}: hand-off p50 vs ${p.label}, ${waiters} waiting`,
        limit: '>= 10x lower',
        value: Number((theirs / mine).toFixed(1)),
        min: 10,
        format: (v) => `${v.toFixed(1)}x (${ms(mine)} vs ${ms(theirs)} ms)`,
      });
    }
  }
}
const floor = LIBRARIES.find((l) => l.floor);
if (floor !== undefined) {
  // How far above the floor each waitsafe row is, and the most any push design could reach
  // against each peer: the peer's p50 over the floor's.
  const lines = [];
  for (const waiters of WAITERS) {
    const f = hand[`${floor.lib} ${waiters}`].p50;
    for (const l of LIBRARIES.filter((x) => x.waitsafe)) {
      lines.push(
        `- ${l.label}, ${waiters} waiting: ${(hand[`${l.lib} ${waiters}`].p50 / f).toFixed(2)}x the floor (${ms(f)} ms)`,
      );
    }
    for (const p of peers) {
      lines.push(
        `- ${p.label}, ${waiters} waiting: ${(hand[`${p.lib} ${waiters}`].p50 / f).toFixed(1)}x the floor: the most any lock woken by PUBLISH could be faster`,
      );
    }
  }
  console.log(`
### Hand-off p50 against the floor (${floor.label})

${lines.join('\n')}`);
}
console.log(`\nMeasured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, \`${command()}\`.`);
const missed = printTargets(targets, '### Targets (waitsafe/redis)');
console.log(
  missed.length === 0 ? `\nall ${targets.length} targets pass` : `\nMISS: ${missed.length} of ${targets.length}`,
);

await probe.quit();
server.stdin.end();
await new Promise((resolve) => server.once('exit', resolve));
console.log(`\nbench/redis.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`);
