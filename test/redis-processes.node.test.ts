/**
 * `waitsafe/redis` across real processes, and its faults made real (docs/distributed.md): each
 * process is a child (`fixtures/redis-worker.mts`) with its own connections to a `redis-server`
 * that this file starts on a free loopback port, driven over stdio by the test. Run with both
 * client libraries. The children run on the runtime under test (Node, or Bun or Deno running
 * the Node project).
 *
 * - FIFO across processes, hand-off at release by the grant message (not the safety-net poll), a
 *   release with nobody waiting, weights across processes;
 * - `kill -9` of a holder and of waiters; a holder paused (SIGSTOP) longer than its lease;
 *   Redis stopped mid-wait and started again;
 * - 1,002 acquires and 300 event waits given up across processes: nothing left in Redis.
 *
 * The tests wait for events (a child's report, a key's state), never for a fixed time. Upper
 * bounds after a fault are the lease, the poll interval and the heartbeat ttl plus a generous
 * margin for a loaded machine. `WAITSAFE_REDIS_REPORT=1` prints what each fault test measured.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { HEARTBEAT_TTL, POLL_INTERVAL } from '../src/redis/common.js';
import { root, runtimeArgs } from './compile.js';
import { hasRedis, type RedisServer, startRedis } from './redis-server.js';

/** The lease of every lock and semaphore here: short, so that faults resolve fast. */
const LEASE = 1_000;
/** Slack on top of the protocol's own bounds (lease, poll interval, heartbeat) on a busy machine. */
const MARGIN = 5_000;
/** The longest a test waits for an event before it fails saying which. */
const PATIENCE = 20_000;
const TEST_TIMEOUT = 90_000;

const CLIENTS = ['redis', 'ioredis'] as const;
type ClientName = (typeof CLIENTS)[number];

const workerScript = join(root, 'test', '.generated', 'redis-worker.mjs');
const report = process.env.WAITSAFE_REDIS_REPORT === '1' ? (line: string) => console.log(line) : () => {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Milliseconds since `t` (`performance.now()`), rounded. */
const since = (t: number) => Math.round(performance.now() - t);

/** Resolves with `promise`, or fails saying `what` did not happen within `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = PATIENCE): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Waits until `check` holds (a state in Redis), looking every 10 ms; fails saying `what` after `ms`. */
async function until(check: () => Promise<boolean>, what: string, ms = PATIENCE): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not true within ${ms} ms`);
    await sleep(10);
  }
}

/** A child's answer to one request. */
interface Reply {
  ok: boolean;
  error?: { name: string; message: string };
  token?: string | null;
  byMessage?: boolean;
  grantMessage?: boolean;
  released?: boolean;
  woke?: boolean;
  set?: boolean;
  outcomes?: Record<string, number>;
  sent?: Record<string, number>;
  waiterCount?: number;
  runtime?: string;
}

interface Message extends Reply {
  ev: string;
  ref?: string;
}

const workers = new Set<Worker>();
let refs = 0;

/** One child process with its own Redis connections. */
class Worker {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The runtime it runs on, as it says. */
  runtime = '';
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  readonly #waiting = new Map<string, (message: Message) => void>();
  readonly #seen = new Map<string, Message>();
  #stderr = '';
  #gone = false;

  private constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.child = child;
    this.pid = child.pid as number;
    // A request to a child that has just died is answered by the exit handler below.
    child.stdin?.on('error', () => {});
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2_000);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        return; // a client library's own output
      }
      this.#deliver(`${message.ev} ${message.ref ?? ''}`, message);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#gone = true;
        workers.delete(this);
        // Whatever it was still to answer, it never will: say so rather than hang.
        const error = { name: 'WorkerExited', message: `${label} exited (${code ?? signal}): ${this.#stderr}` };
        for (const [key, deliver] of this.#waiting) {
          this.#waiting.delete(key);
          deliver({ ev: 'exit', ok: false, error });
        }
        resolve();
      });
    });
    workers.add(this);
  }

  /** Starts a child with a `client` connection to `url`; resolves once it is connected. */
  static async start(label: string, client: ClientName, url: string): Promise<Worker> {
    const child = spawn(process.execPath, runtimeArgs([workerScript, client, url]), {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const worker = new Worker(label, child);
    const ready = await within(worker.#next('ready '), `${label} started`);
    if (ready.ev !== 'ready') throw new Error(`${label} did not start: ${ready.error?.message}`);
    worker.runtime = String(ready.runtime);
    return worker;
  }

  #deliver(key: string, message: Message): void {
    const deliver = this.#waiting.get(key);
    if (deliver === undefined) {
      this.#seen.set(key, message);
      return;
    }
    this.#waiting.delete(key);
    deliver(message);
  }

  /** The next message `key` (`<ev> <ref>`), seen already or to come. */
  #next(key: string): Promise<Message> {
    const seen = this.#seen.get(key);
    if (seen !== undefined) {
      this.#seen.delete(key);
      return Promise.resolve(seen);
    }
    if (this.#gone) return Promise.resolve({ ev: 'exit', ok: false, error: { name: 'WorkerExited', message: '' } });
    return new Promise((resolve) => this.#waiting.set(key, resolve));
  }

  /** Sends a request; resolves with its reply (for `acquire`: once granted or rejected). */
  request(op: string, args: Record<string, unknown> = {}, ref = `r${++refs}`): Promise<Reply> & { ref: string } {
    const reply = this.#next(`reply ${ref}`);
    this.child.stdin?.write(`${JSON.stringify({ ...args, op, ref })}\n`);
    return Object.assign(reply, { ref });
  }

  /** Resolves with the error that the signal of the lease of request `ref` aborted with. */
  lost(ref: string): Promise<Message> {
    return this.#next(`lost ${ref}`);
  }

  /** Resolves when the waits of `abandon` request `ref` have all started. */
  started(ref: string): Promise<Message> {
    return this.#next(`started ${ref}`);
  }

  /** Sends `signal` to the process (`process.kill`, which every runtime implements in full). */
  kill(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }
}

/** `acquire`'s reply, which must be a grant: its token. */
function tokenOf(reply: Reply, who = 'acquire'): bigint {
  if (!reply.ok || typeof reply.token !== 'string') {
    throw new Error(`${who} was not granted: ${JSON.stringify(reply.error ?? reply)}`);
  }
  return BigInt(reply.token);
}

/** An acquire sent to a child: its lease is `ref` there once granted. */
interface Acquire {
  readonly worker: Worker;
  readonly ref: string;
  readonly reply: Promise<Reply>;
  /** Whether the reply has come (without waiting for it). */
  readonly settled: boolean;
}

function acquire(worker: Worker, args: Record<string, unknown>): Acquire {
  const reply = worker.request('acquire', args);
  let settled = false;
  reply.then(() => {
    settled = true;
  });
  return {
    worker,
    ref: reply.ref,
    reply,
    get settled() {
      return settled;
    },
  };
}

/** Releases the lease of `acquired`; resolves with the child's reply. */
const release = (acquired: Acquire) => acquired.worker.request('release', {}, acquired.ref);

/** Whether `tokens` increase strictly. */
const increasing = (tokens: readonly bigint[]) => tokens.every((t, i) => i === 0 || (tokens[i - 1] as bigint) < t);

let names = 0;
const fresh = (what: string) => `procs:${what}:${++names}:${Math.random().toString(36).slice(2, 8)}`;
const key = (name: string, part: string) => `waitsafe:{${name}}:${part}`;
/** The keys of a lock's or semaphore's state, all gone while nobody holds or waits. */
const STATE = ['kind', 'holders', 'queue', 'alive', 'info'];

/** A connection of the test's own, to look at the server. */
async function adminOf(url: string) {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  return admin;
}

type Admin = Awaited<ReturnType<typeof adminOf>>;

const zcard = async (admin: Admin, k: string) => Number(await admin.sendCommand(['ZCARD', k]));
const numsub = async (admin: Admin, channel: string) =>
  Number(((await admin.sendCommand(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1]);
/** Subscribers of the grant channels of `name`: one channel per process (`…:grant:<process>`). */
const grantSubscribers = async (admin: Admin, name: string) => {
  const channels = (await admin.sendCommand(['PUBSUB', 'CHANNELS', `${key(name, 'grant')}:*`])) as string[];
  if (channels.length === 0) return 0;
  const counts = (await admin.sendCommand(['PUBSUB', 'NUMSUB', ...channels])) as unknown[];
  let subscribers = 0;
  for (let i = 1; i < counts.length; i += 2) subscribers += Number(counts[i]);
  return subscribers;
};

afterEach(async () => {
  // A test's children end with it, whether it passed or not.
  const left = [...workers];
  for (const worker of left) {
    try {
      worker.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(left.map((worker) => worker.exited));
});

describe.skipIf(!hasRedis)('waitsafe/redis across processes', () => {
  let server: RedisServer;
  let admin: Admin;

  beforeAll(async () => {
    mkdirSync(join(root, 'test', '.generated'), { recursive: true });
    // waitsafe/redis from the sources; the client libraries from node_modules (so the bundle
    // lives in the repository, where they resolve).
    await build({
      entryPoints: [join(root, 'test', 'fixtures', 'redis-worker.mts')],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'es2022',
      outfile: workerScript,
      logLevel: 'silent',
    });
    server = await startRedis();
    admin = await adminOf(server.url);
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  describe.each(CLIENTS)('with the %s client', (client) => {
    const start = (...labels: string[]) =>
      Promise.all(labels.map((label) => Worker.start(`${client}:${label}`, client, server.url)));
    const lockOf = (name: string) => ({ kind: 'lock', name, lease: LEASE });
    const queued = (name: string, n: number, ms?: number) =>
      until(async () => (await zcard(admin, key(name, 'queue'))) === n, `${n} queued in Redis`, ms);
    /**
     * Waits until `acquired` is the `n`th entry of the Redis queue of `name`, and its process is
     * subscribed to the grant channel: a release from then on reaches it by message. (Before
     * that, the poll that follows the subscription finds a grant published in between.)
     */
    const waiting = async (acquired: Acquire, name: string, n: number) => {
      await queued(name, n);
      await within(acquired.worker.request('subscribed', { channel: key(name, 'grant') }), 'subscribed');
    };
    /** Nobody holds or waits: every key but the token counter is gone. */
    const expectIdle = async (name: string) =>
      expect(await admin.sendCommand(['EXISTS', ...STATE.map((part) => key(name, part))])).toBe(0);

    it(
      'grants the lock to waiters of several processes in the order they queued, each by its grant message at release',
      async () => {
        const [holder, a, b, c] = await start('holder', 'a', 'b', 'c');
        // The children run on the runtime under test.
        expect((holder as Worker).runtime).toBe(inject('runtime'));
        const name = fresh('fifo');
        const first = acquire(holder as Worker, lockOf(name));
        const tokens = [tokenOf(await first.reply)];
        const startedAt = performance.now();
        // Queued in an order unlike the order the processes started in.
        const waits: Acquire[] = [];
        for (const worker of [b, c, a] as Worker[]) {
          waits.push(acquire(worker, lockOf(name)));
          await waiting(waits[waits.length - 1] as Acquire, name, waits.length);
        }
        let holding = first;
        const byMessage: boolean[] = [];
        for (const [i, wait] of waits.entries()) {
          // Nobody is served before the release.
          expect(waits.map((w) => w.settled)).toEqual(waits.map((_, j) => j < i));
          const releasedAt = performance.now();
          expect(await release(holding)).toMatchObject({ ok: true, released: true });
          const grant = await within(wait.reply, `the grant to waiter ${i}`);
          report(
            `${client}: FIFO hand-off, release to grant in another process: ${since(releasedAt)} ms (${grant.byMessage ? 'by its message' : 'by a poll that beat its message'})`,
          );
          tokens.push(tokenOf(grant));
          byMessage.push(grant.byMessage === true);
          // Handed over by the release's grant message (which a safety-net poll that happened to
          // run in between may beat: the fixture's grantMessage says the message came all the same).
          expect(grant.grantMessage).toBe(true);
          holding = wait;
        }
        expect(await release(holding)).toMatchObject({ ok: true, released: true });
        expect(increasing(tokens)).toBe(true);
        // The waiters act on their messages: a poll can beat one now and then, not all three.
        expect(byMessage).toContain(true);
        // The safety net is slow: each waiting process polled about once a second, not in a loop.
        const seconds = Math.ceil(since(startedAt) / POLL_INTERVAL);
        for (const wait of waits) {
          const stats = await wait.worker.request('stats');
          expect(stats.sent?.POLL).toBeLessThanOrEqual(seconds + 2);
        }
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'grants nobody at a release with nobody waiting, and the next acquire, in another process, takes the lock at once',
      async () => {
        const [a, b] = (await start('a', 'b')) as [Worker, Worker];
        const name = fresh('nobody');
        const listener = admin.duplicate();
        listener.on('error', () => {});
        await listener.connect();
        const messages: string[] = [];
        // Every process's grant channel of the name.
        await listener.pSubscribe(`${key(name, 'grant')}:*`, (message) => messages.push(message));
        try {
          const held = acquire(a, lockOf(name));
          const token = tokenOf(await held.reply);
          expect(await release(held)).toMatchObject({ ok: true, released: true });
          // Only the token counter is left, so that tokens never go back.
          await expectIdle(name);
          expect(await admin.sendCommand(['EXISTS', key(name, 'token')])).toBe(1);
          const next = b.request('try', lockOf(name));
          expect(tokenOf(await next, 'tryAcquire')).toBeGreaterThan(token);
          expect(await b.request('release', {}, next.ref)).toMatchObject({ ok: true, released: true });
          // Messages on a channel arrive in order: once the marker is in, no grant was published before it.
          await admin.sendCommand(['PUBLISH', `${key(name, 'grant')}:marker`, 'marker']);
          await until(async () => messages.length > 0, 'the marker');
          expect(messages).toEqual(['marker']);
          // Neither process waited, so neither subscribed (the test's listener is a pattern).
          expect(await grantSubscribers(admin, name)).toBe(0);
        } finally {
          await listener.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'serves weights across processes in FIFO order: a lighter waiter that fits does not pass a heavier one ahead',
      async () => {
        const [a, b, c, d] = (await start('a', 'b', 'c', 'd')) as [Worker, Worker, Worker, Worker];
        const name = fresh('weights');
        const semaphore = (weight: number) => ({ kind: 'semaphore', name, permits: 3, lease: LEASE, weight });
        const two = acquire(a, semaphore(2));
        const tokens = [tokenOf(await two.reply)];
        const heavy = acquire(b, semaphore(2)); // 2 + 2 > 3: waits
        await waiting(heavy, name, 1);
        const light = acquire(c, semaphore(1)); // 2 + 1 <= 3 would fit, but it waits behind `heavy`
        await waiting(light, name, 2);
        expect(await zcard(admin, key(name, 'holders'))).toBe(1);
        expect([heavy.settled, light.settled]).toEqual([false, false]);
        // One release serves both, in order: 2 + 1 fit in 3.
        expect(await release(two)).toMatchObject({ ok: true, released: true });
        const [heavyGrant, lightGrant] = await within(Promise.all([heavy.reply, light.reply]), 'both served');
        tokens.push(tokenOf(heavyGrant), tokenOf(lightGrant));
        expect([heavyGrant.grantMessage, lightGrant.grantMessage]).toEqual([true, true]);
        const all = acquire(d, semaphore(3));
        await waiting(all, name, 1);
        // 1 permit is still held by `light`: `all` keeps waiting (the release's script did not grant it).
        expect(await release(heavy)).toMatchObject({ ok: true, released: true });
        expect(await zcard(admin, key(name, 'queue'))).toBe(1);
        expect(await zcard(admin, key(name, 'holders'))).toBe(1);
        expect(await release(light)).toMatchObject({ ok: true, released: true });
        const allGrant = await within(all.reply, 'all 3 permits served');
        tokens.push(tokenOf(allGrant));
        expect(allGrant.grantMessage).toBe(true);
        expect(await release(all)).toMatchObject({ ok: true, released: true });
        expect(increasing(tokens)).toBe(true);
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'kill -9 of a holder: the next waiter, in another process, gets the lock within the lease plus a poll, with a higher token',
      async () => {
        const [holder, a, b] = (await start('holder', 'a', 'b')) as [Worker, Worker, Worker];
        const name = fresh('kill-holder');
        const held = acquire(holder, lockOf(name));
        const killedToken = tokenOf(await held.reply);
        const next = acquire(a, lockOf(name));
        await waiting(next, name, 1);
        const after = acquire(b, lockOf(name));
        await waiting(after, name, 2);
        const killedAt = performance.now();
        holder.kill('SIGKILL');
        await holder.exited;
        const bound = LEASE + POLL_INTERVAL + MARGIN;
        const grant = await within(next.reply, 'the takeover from the killed holder', bound);
        const took = since(killedAt);
        report(
          `${client}: kill -9 of the holder (lease ${LEASE} ms): next waiter served after ${took} ms, token ${killedToken} -> ${grant.token}`,
        );
        expect(took).toBeLessThan(bound);
        expect(tokenOf(grant)).toBeGreaterThan(killedToken);
        // The queue behind kept its order, and hands over by message again.
        expect(after.settled).toBe(false);
        expect(await release(next)).toMatchObject({ ok: true, released: true });
        const last = await within(after.reply, 'the waiter behind');
        expect(last.grantMessage).toBe(true);
        expect(tokenOf(last)).toBeGreaterThan(tokenOf(grant));
        expect(await release(after)).toMatchObject({ ok: true, released: true });
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'kill -9 of a waiter: its queue entry expires by heartbeat, and the waiter behind it gets the lock at the release',
      async () => {
        const [holder, dying, behind] = (await start('holder', 'dying', 'behind')) as [Worker, Worker, Worker];
        const name = fresh('kill-waiter');
        const held = acquire(holder, lockOf(name));
        const heldToken = tokenOf(await held.reply);
        acquire(dying, lockOf(name));
        await queued(name, 1);
        const next = acquire(behind, lockOf(name));
        await waiting(next, name, 2);
        const killedAt = performance.now();
        dying.kill('SIGKILL');
        await dying.exited;
        await queued(name, 1, HEARTBEAT_TTL + POLL_INTERVAL + MARGIN);
        report(
          `${client}: kill -9 of a waiter: its entry left the queue after ${since(killedAt)} ms (heartbeat ttl ${HEARTBEAT_TTL} ms)`,
        );
        expect(await zcard(admin, key(name, 'alive'))).toBe(1);
        expect(next.settled).toBe(false);
        expect(await release(held)).toMatchObject({ ok: true, released: true });
        // Granted by the release, in its script: the grant reaches it by message or, if its
        // heartbeat POLL (once a second, over the 5 s this test waits) is in flight then, by that
        // POLL's reply, whichever comes first. Either way it does not wait for the dead waiter.
        const grant = await within(next.reply, 'the waiter behind the dead one', POLL_INTERVAL + MARGIN);
        expect(tokenOf(grant)).toBeGreaterThan(heldToken);
        expect(await release(next)).toMatchObject({ ok: true, released: true });
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'kill -9 of a waiter just before the release: the grant to the dead waiter expires, and the one behind gets the lock',
      async () => {
        const [holder, dying, behind] = (await start('holder', 'dying', 'behind')) as [Worker, Worker, Worker];
        const name = fresh('kill-granted');
        const held = acquire(holder, lockOf(name));
        const heldToken = tokenOf(await held.reply);
        acquire(dying, lockOf(name));
        await queued(name, 1);
        const next = acquire(behind, lockOf(name));
        await waiting(next, name, 2);
        dying.kill('SIGKILL');
        await dying.exited;
        // Its entry is still alive: the release grants the dead waiter, with a first lease that
        // its process would have renewed at once.
        const releasedAt = performance.now();
        expect(await release(held)).toMatchObject({ ok: true, released: true });
        const bound = LEASE + POLL_INTERVAL + MARGIN;
        const grant = await within(next.reply, 'the waiter behind the dead one', bound);
        const took = since(releasedAt);
        report(
          `${client}: kill -9 of the next waiter before a release: the one behind served after ${took} ms, token ${heldToken} -> ${grant.token}`,
        );
        expect(took).toBeLessThan(bound);
        // The dead waiter's grant drew a token in between.
        expect(tokenOf(grant)).toBeGreaterThan(heldToken + 1n);
        expect(await release(next)).toMatchObject({ ok: true, released: true });
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'a holder paused longer than its lease: its lease.signal aborts with LeaseLostError, release() resolves false, the new holder has a higher token',
      async () => {
        const [holder, other] = (await start('holder', 'other')) as [Worker, Worker];
        const name = fresh('paused');
        const held = acquire(holder, lockOf(name));
        const pausedToken = tokenOf(await held.reply);
        const lost = holder.lost(held.ref);
        const next = acquire(other, lockOf(name));
        await waiting(next, name, 1);
        const pausedAt = performance.now();
        holder.kill('SIGSTOP');
        let grant: Reply;
        try {
          grant = await within(next.reply, 'the takeover from the paused holder', LEASE + POLL_INTERVAL + MARGIN);
        } finally {
          holder.kill('SIGCONT');
        }
        const took = since(pausedAt);
        const reason = await within(lost, 'lease.signal aborted in the resumed holder');
        report(
          `${client}: SIGSTOP of the holder (lease ${LEASE} ms): next waiter served after ${took} ms, token ${pausedToken} -> ${grant.token}; resumed holder: ${reason.error?.name}: ${reason.error?.message}`,
        );
        expect(reason.error?.name).toBe('LeaseLostError');
        expect(await release(held)).toMatchObject({ ok: true, released: false });
        expect(tokenOf(grant)).toBeGreaterThan(pausedToken);
        // The new holder's lease was untouched by the old one's return.
        expect(await release(next)).toMatchObject({ ok: true, released: true });
        await expectIdle(name);
      },
      TEST_TIMEOUT,
    );

    it(
      'Redis stopped mid-wait: waits reject with the client error and nothing hangs; after a restart the primitives work again',
      async () => {
        const own = await startRedis();
        try {
          const int = async (...args: string[]) => Number(/:(-?\d+)\r\n$/.exec(await own.command(...args))?.[1]);
          const [holder, a, e] = (await Promise.all(
            ['holder', 'a', 'e'].map((label) => Worker.start(`${client}:${label}`, client, own.url)),
          )) as [Worker, Worker, Worker];
          const name = fresh('outage');
          const flag = fresh('outage-flag');
          const held = acquire(holder, lockOf(name));
          const before = tokenOf(await held.reply);
          const lost = holder.lost(held.ref);
          const waiting = acquire(a, lockOf(name));
          await until(async () => (await int('ZCARD', key(name, 'queue'))) === 1, 'queued');
          await within(a.request('subscribed', { channel: key(name, 'grant') }), 'subscribed');
          const eventWait = e.request('wait', { name: flag });
          await until(async () => (await int('PUBSUB', 'NUMSUB', key(flag, 'set'))) === 1, 'the event wait subscribed');
          const stoppedAt = performance.now();
          await own.stop();
          // Each on its own, so that a failure says which one hung.
          const acquireReply = await within(waiting.reply, 'the queued acquire ended while Redis was down');
          const waitReply = await within(eventWait, 'the event wait ended while Redis was down');
          const lostReason = await within(lost, "the holder's lease.signal aborted while Redis was down");
          report(
            `${client}: Redis stopped: waits ended after ${since(stoppedAt)} ms: acquire: ${acquireReply.error?.name}: ${acquireReply.error?.message}; event wait: ${waitReply.error?.name}: ${waitReply.error?.message}; holder: ${lostReason.error?.name}`,
          );
          for (const reply of [acquireReply, waitReply]) {
            expect(reply.ok).toBe(false);
            // The client's error, not the child dying nor a timeout of the test's own.
            expect(reply.error?.name).not.toBe('WorkerExited');
            expect(reply.error?.name).not.toBe('TimeoutError');
          }
          expect(lostReason.error?.name).toBe('LeaseLostError');
          for (const worker of [holder, a, e]) expect(await worker.request('stats')).toMatchObject({ waiterCount: 0 });

          await own.start();
          // The clients reconnect by themselves, each on its own schedule (seconds, on a loaded
          // machine). A lease counts from when its acquire was sent, so one sent while its client
          // is still away can be granted already lost: wait until both are back (a command goes
          // through). Then the same primitives work again, hand-off included.
          for (const worker of [a, holder]) {
            await until(async () => (await worker.request('isSet', { name: flag })).ok, 'a client back');
          }
          const again = acquire(a, { ...lockOf(name), timeout: PATIENCE });
          const first = tokenOf(await within(again.reply, 'an acquire after the restart'));
          // The restarted server is empty (no persistence), yet tokens did not go back.
          expect(first).toBeGreaterThan(before);
          const later = acquire(holder, lockOf(name));
          let queuedYet = false;
          const endedFirst = later.reply.then((reply) => {
            if (!queuedYet)
              throw new Error(`the acquire after the restart ended before it queued: ${JSON.stringify(reply)}`);
          });
          await Promise.race([
            until(async () => (await int('ZCARD', key(name, 'queue'))) === 1, 'queued after the restart').then(() => {
              queuedYet = true;
            }),
            endedFirst,
          ]);
          await within(holder.request('subscribed', { channel: key(name, 'grant') }), 'subscribed after the restart');
          expect(await release(again)).toMatchObject({ ok: true, released: true });
          const handedOver = await within(later.reply, 'a hand-off after the restart');
          // Not necessarily by message here: the waiter's ACQUIRE went out before its new
          // subscription was confirmed, so it sends one POLL after the confirmation, and that POLL's
          // reply may arrive before the grant message (two connections). Hand-off by message is
          // checked where the subscription is in place first (FIFO across processes).
          expect(tokenOf(handedOver)).toBeGreaterThan(first);
          // The lease lost in the outage stays lost.
          expect(await release(held)).toMatchObject({ ok: true, released: false });
          const woke = e.request('wait', { name: flag, timeout: PATIENCE });
          await until(
            async () => (await int('PUBSUB', 'NUMSUB', key(flag, 'set'))) === 1,
            'the event wait subscribed again',
          );
          expect(await holder.request('set', { name: flag })).toMatchObject({ ok: true });
          expect(await within(woke, 'the event wait after the restart')).toMatchObject({ ok: true, woke: true });
          expect(await release(later)).toMatchObject({ ok: true, released: true });
        } finally {
          await own.stop();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'leaves no queue entry and no subscription after 1,002 acquires and 300 event waits given up in 3 processes',
      async () => {
        const [holder, ...others] = (await start('holder', 'p1', 'p2', 'p3')) as Worker[];
        const name = fresh('abandon');
        const flag = fresh('abandon-flag');
        const held = acquire(holder as Worker, lockOf(name));
        const heldToken = tokenOf(await held.reply);
        /** `count` waits in each process, given up as `args.mode` says; resolves with how they ended. */
        const abandon = async (args: Record<string, unknown>, count: number, whileWaiting?: () => Promise<void>) => {
          const requests = others.map((worker) => worker.request('abandon', { ...args, count }));
          await within(
            Promise.all(others.map((worker, i) => worker.started((requests[i] as { ref: string }).ref))),
            'started',
          );
          if (whileWaiting !== undefined) {
            await whileWaiting();
            for (const [i, worker] of others.entries()) {
              worker.request('abort', { target: (requests[i] as { ref: string }).ref });
            }
          }
          const replies = await within(Promise.all(requests), 'every wait given up');
          return replies.map((reply) => reply.outcomes);
        };
        const each = (outcome: Record<string, number>) => others.map(() => outcome);
        // Queued in Redis, then aborted: one subscription per process, not one per wait.
        expect(
          await abandon({ ...lockOf(name), mode: 'signal' }, 167, async () => {
            await queued(name, 3 * 167);
            await until(async () => (await grantSubscribers(admin, name)) === 3, 'subscribed');
          }),
        ).toEqual(each({ AbortError: 167 }));
        // Aborted while their ACQUIRE was on its way.
        expect(await abandon({ ...lockOf(name), mode: 'immediate' }, 100)).toEqual(each({ AbortError: 100 }));
        // Timed out.
        expect(await abandon({ ...lockOf(name), mode: 'timeout', timeout: 300 }, 67)).toEqual(
          each({ TimeoutError: 67 }),
        );
        // Event waits, aborted once subscribed, and timed out.
        expect(
          await abandon({ kind: 'event', name: flag, mode: 'signal' }, 50, () =>
            until(async () => (await numsub(admin, key(flag, 'set'))) === 3, 'event waits subscribed'),
          ),
        ).toEqual(each({ AbortError: 50 }));
        expect(await abandon({ kind: 'event', name: flag, mode: 'timeout', timeout: 200 }, 50)).toEqual(
          each({ TimeoutError: 50 }),
        );

        // Nothing queued, no heartbeat, no info but the holder's; no subscription, no local waiter.
        expect(await zcard(admin, key(name, 'queue'))).toBe(0);
        expect(await zcard(admin, key(name, 'alive'))).toBe(0);
        expect(await admin.sendCommand(['EXISTS', key(name, 'queue'), key(name, 'alive')])).toBe(0);
        expect(await admin.sendCommand(['HLEN', key(name, 'info')])).toBe(1);
        expect(await zcard(admin, key(name, 'holders'))).toBe(1);
        for (const worker of others) expect(await worker.request('stats')).toMatchObject({ waiterCount: 0 });
        await until(
          async () => (await grantSubscribers(admin, name)) + (await numsub(admin, key(flag, 'set'))) === 0,
          'every subscription dropped',
        );
        expect(await admin.sendCommand(['PUBSUB', 'CHANNELS', `waitsafe:{procs:abandon*`])).toEqual([]);
        // Nothing delays the next acquire: once released, another process takes the lock at once.
        expect(await release(held)).toMatchObject({ ok: true, released: true });
        await expectIdle(name);
        const next = (others[0] as Worker).request('try', lockOf(name));
        expect(tokenOf(await next, 'tryAcquire')).toBeGreaterThan(heldToken);
        expect(await (others[0] as Worker).request('release', {}, next.ref)).toMatchObject({
          ok: true,
          released: true,
        });
      },
      TEST_TIMEOUT,
    );
  });
});
