/**
 * A throwaway `redis-server` for the Redis tests: started on a free loopback port with no
 * persistence (`--save '' --appendonly no`), on 127.0.0.1 only, and stopped afterwards. Tests
 * never talk to any other address.
 *
 * ```ts
 * import { hasRedis, startRedis } from './redis-server.js';
 *
 * describe.skipIf(!hasRedis)('...', () => {
 *   let server: RedisServer;
 *   beforeAll(async () => { server = await startRedis(); });
 *   afterAll(() => server.stop());
 *   // server.url, server.port, server.pid; for fault tests: server.stop(), start(), restart(),
 *   // kill() (SIGKILL), pause() (SIGSTOP), resume() (SIGCONT), command(...) (a raw command)
 * });
 * ```
 *
 * A server never outlives the test process, even one killed without running exit hooks (see
 * `WATCHDOG`). `WAITSAFE_REDIS_SERVER` names the binary to use; set to an empty value, it makes
 * `hasRedis` false (to see the skip path). Node-only (child processes, sockets).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The loopback address every test server binds to. */
export const REDIS_HOST = '127.0.0.1';

/**
 * The path of `redis-server`: `WAITSAFE_REDIS_SERVER` if set (an empty value: none, so the Redis
 * tests are skipped), else the first on PATH (or in /usr/bin, /usr/local/bin), or undefined.
 */
export const redisServerPath: string | undefined = (() => {
  const override = process.env.WAITSAFE_REDIS_SERVER;
  if (override !== undefined) return override === '' ? undefined : override;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
})();

/** Whether the Redis tests can run here. */
export const hasRedis: boolean = redisServerPath !== undefined;

/** How to get `redis-server` where it is missing, for the skip message. */
export const INSTALL_HINT = 'install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`';

/** A running test server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The pid of the redis-server process (undefined while stopped). */
  readonly pid: number | undefined;
  /** Sends one command (inline protocol) on a fresh connection and resolves with the raw reply. */
  command(...args: string[]): Promise<string>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits until it has exited. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL) and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted) and waits until it answers. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Freezes the server process (SIGSTOP): it keeps its connections but answers nothing. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
}

/** A port that was free a moment ago on the loopback address (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, REDIS_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends `args` as one RESP command on a new connection; resolves with the raw reply text. */
function sendCommand(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: REDIS_HOST, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A started server: its watchdog shell (our child) and the pid of `redis-server` itself.
 *
 * `redis-server` runs under a small `sh` watchdog that holds our end of a pipe: if this process
 * dies in any way (a test runner killing its worker included, when no exit hook runs), the pipe
 * closes and the watchdog stops the server, so no server outlives the tests. The watchdog exits
 * when the server does, with its status.
 */
interface Spawned {
  readonly watchdog: ChildProcess;
  /** The pid of redis-server, once the watchdog has said it. */
  readonly pid: Promise<number>;
}

const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null & pid=$!',
  'echo "waitsafe-redis-pid $pid"',
  // Waits on the pipe (fd 3: a background job's own stdin is /dev/null); EOF: our process is gone.
  '(read -r _ <&3; kill -CONT $pid 2>/dev/null; kill -TERM $pid 2>/dev/null) & watcher=$!',
  'wait $pid; status=$?',
  'kill $watcher 2>/dev/null',
  'exit $status',
].join('\n');

/** Waits until the server on `port` answers PING, or it exits, or 10 s pass. */
async function waitUntilUp(port: number, spawned: Spawned): Promise<void> {
  const child = spawned.watchdog;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode})`);
    }
    try {
      if ((await sendCommand(port, ['PING'], 500)).startsWith('+PONG')) {
        await spawned.pid;
        return;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    await sleep(20);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends `signal` to the server (not the watchdog), if it is still running. */
async function signalServer(spawned: Spawned, signal: NodeJS.Signals): Promise<void> {
  const child = spawned.watchdog;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const pid = await spawned.pid;
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function spawnServer(port: number): Spawned {
  if (redisServerPath === undefined) throw new Error(`redis-server is not installed: ${INSTALL_HINT}`);
  const args = ['--port', String(port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'waitsafe-redis-watchdog', redisServerPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let reportPid: (pid: number) => void = () => {};
  const pid = new Promise<number>((resolve) => {
    reportPid = resolve;
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
    const match = /waitsafe-redis-pid (\d+)/.exec(output);
    if (match !== null) reportPid(Number(match[1]));
  };
  watchdog.stdout?.on('data', keep);
  watchdog.stderr?.on('data', keep);
  // Our end of the pipe stays open for as long as this process lives, without keeping it alive.
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.on('exit', (code, signal) => {
    // 143 and 137: stopped (SIGTERM) or killed (SIGKILL) on purpose.
    if (code !== 0 && code !== null && code !== 143 && code !== 137 && signal === null) {
      process.stderr.write(`redis-server on port ${port} exited with ${code}:\n${output}\n`);
    }
  });
  return { watchdog, pid };
}

/**
 * Starts a `redis-server` on a free loopback port and resolves once it answers PING. Retries
 * with another port if the chosen one was taken meanwhile.
 */
export async function startRedis(): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const spawned = spawnServer(port);
    try {
      await waitUntilUp(port, spawned);
    } catch (error) {
      lastError = error;
      await signalServer(spawned, 'SIGKILL');
      spawned.watchdog.stdin?.end();
      await exited(spawned.watchdog);
      continue;
    }
    return makeServer(port, spawned, await spawned.pid);
  }
  throw lastError;
}

function makeServer(port: number, first: Spawned, firstPid: number): RedisServer {
  let current: Spawned | undefined = first;
  let pid: number | undefined = firstPid;
  const stopWith = async (signal: NodeJS.Signals) => {
    const spawned = current;
    if (spawned === undefined) return;
    current = undefined;
    pid = undefined;
    await signalServer(spawned, 'SIGCONT');
    await signalServer(spawned, signal);
    const hard = setTimeout(() => void signalServer(spawned, 'SIGKILL'), 5_000);
    await exited(spawned.watchdog);
    clearTimeout(hard);
    spawned.watchdog.stdin?.end();
  };
  const server: RedisServer = {
    host: REDIS_HOST,
    port,
    url: `redis://${REDIS_HOST}:${port}`,
    get pid() {
      return pid;
    },
    command: (...args) => sendCommand(port, args),
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    async start() {
      if (current !== undefined) return;
      const next = spawnServer(port);
      current = next;
      await waitUntilUp(port, next);
      pid = await next.pid;
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    pause() {
      if (pid !== undefined) process.kill(pid, 'SIGSTOP');
    },
    resume() {
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
    },
  };
  return server;
}
