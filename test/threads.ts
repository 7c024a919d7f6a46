/**
 * Real threads for the tests of waitsafe/shared, on every runtime the suite runs on
 * (docs/runtimes.md, "Thread tests"): each runs the worker script `test/.generated/shared-worker.mjs`
 * (bundled from `test/fixtures/shared-worker.ts` by test/global-setup.ts) and answers requests
 * by op name (the ops are listed in that file).
 *
 * Two ways to start one, `api`:
 * - `worker_threads`: `new Worker(url, { workerData })` of `node:worker_threads`. The default on
 *   Node (which has no global `Worker`), Bun and Deno: on all three its `exit` event says when
 *   the thread has ended, whether terminated or by itself, and the worker can unref its port.
 * - `web`: the global `Worker`, `{ type: 'module' }`. The only one in Chromium (which must be
 *   cross-origin isolated to share a SharedArrayBuffer: vitest.config.ts); also on Bun and Deno.
 *   Bun's emits `close` when the thread has ended; Chromium's and Deno's emit nothing, so there
 *   `exited` only resolves after `terminate()` (`canExitByItself` false).
 *
 * Runtime-neutral (test/tsconfig.json: no Node types): Node's module is loaded only on a runtime
 * that has it, through `process.getBuiltinModule` or a dynamic import that the browser's bundler
 * is told to ignore.
 */

import type { FromWorker, ToWorker, WireError } from './fixtures/shared-worker.js';

export type ThreadApi = 'worker_threads' | 'web';
export type Runtime = 'node' | 'bun' | 'deno' | 'browser';

interface NodeWorker {
  on(event: 'message', listener: (value: unknown) => void): void;
  on(event: 'error' | 'messageerror', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  postMessage(value: unknown): void;
  terminate(): Promise<number>;
}

interface WorkerThreadsModule {
  Worker: new (url: URL, options: { workerData: unknown }) => NodeWorker;
}

interface NodeProcessLike {
  versions?: { node?: string; bun?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const host = globalThis as unknown as {
  process?: NodeProcessLike;
  Deno?: unknown;
  document?: unknown;
  Worker?: typeof Worker;
};

/** The runtime these tests run in. */
export const runtime: Runtime =
  host.Deno !== undefined
    ? 'deno'
    : host.process?.versions?.bun !== undefined
      ? 'bun'
      : host.document === undefined && host.process?.versions?.node !== undefined
        ? 'node'
        : 'browser';

/** The ways to start a thread this runtime has, the default first. */
export const availableApis: readonly ThreadApi[] =
  runtime === 'browser' ? ['web'] : runtime === 'node' ? ['worker_threads'] : ['worker_threads', 'web'];

/** How `startThread()` starts a thread when not told. */
export const defaultApi: ThreadApi = availableApis[0] as ThreadApi;

/**
 * Whether a thread started with `api` can be seen to end by itself (`exited` resolves without
 * `terminate()`: the `exit` op, a thread with nothing left to do after `release`, an uncaught
 * error): the `exit` event of `worker_threads` (Node, Bun, Deno), the `close` event of Bun's Web
 * Workers. Chromium's and Deno's Web Workers say nothing when they end (Chromium's never end by
 * themselves: a closed or idle one is still there until terminated).
 */
export function exitsObservably(api: ThreadApi): boolean {
  return api === 'worker_threads' || runtime === 'bun';
}

/** `exitsObservably(defaultApi)`: whether this runtime's default threads can end by themselves. */
export const canExitByItself = exitsObservably(defaultApi);

/** The bundled worker script (test/global-setup.ts): a file URL, or the page's server in a browser. */
export const workerUrl = new URL('./.generated/shared-worker.mjs', import.meta.url);

/** A running thread, seen from the thread that started it. */
export interface Thread {
  readonly api: ThreadApi;
  /** The id the worker reports for itself (`selfThreadId` in the worker script). */
  readonly threadId: number;
  /** `exitsObservably(api)`: `exited` also resolves when the thread ends by itself. */
  readonly canExitByItself: boolean;
  /** Resolves once the thread has ended (see `canExitByItself`); never rejects. */
  readonly exited: Promise<void>;
  /** The exit code where the runtime gives one (worker_threads, Bun's `close`), once exited. */
  readonly exitCode: number | undefined;
  /** Errors the thread did not catch (they end a worker thread; a Web Worker lives on). */
  readonly errors: readonly Error[];
  /**
   * Runs `op` in the thread with `args` (structured clone: a SharedArrayBuffer is shared) and
   * resolves with its answer; rejects with an Error of the name and message the worker's error had,
   * or if the thread ends before answering (not reported as unhandled if nothing awaits it).
   */
  request<T = unknown>(op: string, args?: unknown): Promise<T>;
  /** Sends `data` to the worker's `onRaw` handlers, outside the request protocol. */
  post(data: unknown): void;
  /** Calls `listener` with each event the worker emits (`emit`); returns its removal. */
  onMessage(listener: (data: unknown) => void): () => void;
  /** Ends the thread and resolves once `exited` has. */
  terminate(): Promise<void>;
}

export interface StartOptions {
  /** `defaultApi` unless given (it must be one of `availableApis`). */
  api?: ThreadApi;
}

const running = new Set<Thread>();
/** The id `init` gives a thread whose runtime has none to report (Chromium, Deno's Web Workers). */
let lastAssignedId = 0;

async function loadWorkerThreads(): Promise<WorkerThreadsModule> {
  const getBuiltinModule = host.process?.getBuiltinModule;
  if (typeof getBuiltinModule === 'function') return getBuiltinModule('node:worker_threads') as WorkerThreadsModule;
  const specifier = 'node:worker_threads';
  return (await import(/* @vite-ignore */ specifier)) as WorkerThreadsModule;
}

function fromWire(error: WireError): Error {
  const result = new Error(error.message);
  result.name = error.name;
  if (error.stack !== undefined) result.stack = error.stack;
  return result;
}

/** The channel to one worker, whichever API started it. */
interface Channel {
  send(message: ToWorker): void;
  terminate(): Promise<void>;
}

/** Starts a thread running the worker script; resolves once it has answered `init`. */
export async function startThread(options: StartOptions = {}): Promise<Thread> {
  const api = options.api ?? defaultApi;
  if (!availableApis.includes(api)) throw new Error(`no ${api} threads on ${runtime}`);

  let threadId = 0;
  let exitCode: number | undefined;
  let hasExited = false;
  let settleReady!: (error?: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = (error) => (error === undefined ? resolve() : reject(error));
  });
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => {
    markExited = resolve;
  });
  const errors: Error[] = [];
  const listeners = new Set<(data: unknown) => void>();
  const pending = new Map<
    number,
    { op: string; promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  let lastRequestId = 0;
  const describeErrors = () => (errors.length === 0 ? '' : `: ${errors.map((e) => e.message).join('; ')}`);

  const onExit = (code: number | undefined): void => {
    if (hasExited) return;
    hasExited = true;
    exitCode = code;
    settleReady(new Error(`the ${api} thread exited (code ${code}) before it was ready${describeErrors()}`));
    for (const [id, request] of pending) {
      pending.delete(id);
      // A request left unanswered on purpose (its thread blocked, then terminated) is not an
      // unhandled rejection; whoever awaits it still gets the error.
      request.promise.catch(() => {});
      request.reject(new Error(`thread ${threadId} exited (code ${code}) before answering ${request.op}`));
    }
    markExited();
  };
  const onError = (error: Error): void => {
    errors.push(error);
    settleReady(new Error(`the ${api} thread failed to start (${workerUrl.href}): ${error.message}`));
  };
  const onMessage = (message: FromWorker): void => {
    switch (message.kind) {
      case 'ready':
        threadId = message.threadId;
        settleReady();
        break;
      case 'response': {
        const request = pending.get(message.id);
        if (request === undefined) return;
        pending.delete(message.id);
        if (message.ok) request.resolve(message.value);
        else request.reject(fromWire(message.error));
        break;
      }
      case 'event':
        for (const listener of listeners) listener(message.data);
        break;
    }
  };

  let channel: Channel;
  if (api === 'worker_threads') {
    const { Worker: NodeWorkerClass } = await loadWorkerThreads();
    // The tag tells the worker to talk over `parentPort` (Bun's Web Workers have one too).
    const worker = new NodeWorkerClass(workerUrl, { workerData: 'waitsafe-thread:worker_threads' });
    worker.on('message', (value) => onMessage(value as FromWorker));
    worker.on('error', onError);
    worker.on('messageerror', onError);
    worker.on('exit', (code) => onExit(code));
    channel = {
      send: (message) => worker.postMessage(message),
      terminate: async () => {
        await worker.terminate();
      },
    };
  } else {
    const WebWorker = host.Worker;
    if (WebWorker === undefined) throw new Error(`no global Worker on ${runtime}`);
    // A variable, not `new Worker(new URL(...))`, which Vite would rewrite into a worker entry.
    const url = workerUrl.href;
    const worker = new WebWorker(url, { type: 'module' });
    worker.addEventListener('message', (event) => onMessage(event.data as FromWorker));
    worker.addEventListener('messageerror', () => onError(new Error('a message from the worker could not be read')));
    worker.addEventListener('error', (event) => {
      // Handled here: unhandled, Deno ends the whole process, a browser logs it.
      event.preventDefault();
      onError(new Error(event.message || `worker error (${event.type}: does ${url} load?)`));
    });
    // Bun's Web Workers say when they have ended; Chromium's and Deno's do not.
    if (runtime === 'bun') {
      worker.addEventListener('close', (event) => onExit((event as Event & { code?: number }).code));
    }
    channel = {
      send: (message) => worker.postMessage(message),
      terminate: async () => {
        worker.terminate();
        if (runtime !== 'bun') onExit(undefined);
        await exited;
      },
    };
  }

  const thread: Thread = {
    api,
    get threadId() {
      return threadId;
    },
    canExitByItself: exitsObservably(api),
    exited,
    get exitCode() {
      return exitCode;
    },
    errors,
    request<T>(op: string, args?: unknown): Promise<T> {
      if (hasExited) return Promise.reject(new Error(`thread ${threadId} has exited: cannot run ${op}`));
      const id = ++lastRequestId;
      let settle!: { resolve: (value: unknown) => void; reject: (e: Error) => void };
      const promise = new Promise<T>((resolve, reject) => {
        settle = { resolve: resolve as (value: unknown) => void, reject };
      });
      pending.set(id, { op, promise, ...settle });
      channel.send({ kind: 'request', id, op, args });
      return promise;
    },
    post(data: unknown): void {
      channel.send({ kind: 'raw', data });
    },
    onMessage(listener) {
      const own = (data: unknown) => listener(data);
      listeners.add(own);
      return () => listeners.delete(own);
    },
    async terminate(): Promise<void> {
      if (!hasExited) await channel.terminate();
      await exited;
    },
  };
  running.add(thread);
  void exited.then(() => running.delete(thread));

  channel.send({ kind: 'init', threadId: ++lastAssignedId });
  try {
    await ready;
  } catch (error) {
    await thread.terminate();
    throw error;
  }
  return thread;
}

/** Terminates every thread started here that has not exited (for `afterEach`). */
export async function terminateAll(): Promise<void> {
  await Promise.all([...running].map((thread) => thread.terminate()));
}
