/**
 * The TSDoc examples are tests (as Deno std runs its doc tests): every ```ts block after an
 * `@example` tag in `src/**\/*.ts` (and the one-line `` @example `code` `` form) is extracted,
 * type-checked and run, so a result comment such as `// true` cannot go stale.
 *
 * - Extraction: the comment prefix (` * `) is stripped; each example is named by its file, the
 *   symbol declared after its comment, and its index among that symbol's examples.
 * - Result comments become assertions, on lines that are whole expression statements:
 *   `expr; // <literal>` (a string, number, boolean, `undefined`, `null`, `NaN`, `Infinity`, or
 *   an array or object literal of those) asserts that `expr` deep-equals the literal, and
 *   `expr; // throws Name: why` that `expr` throws an error named `Name`; with `await expr` the
 *   promise is awaited (a rejection for `throws`). Every asserted line must run. Other comments
 *   are left alone; a literal comment on a line that cannot be asserted (a declaration, a
 *   continuation line) is an error.
 * - Each example becomes one module: a prelude that imports everything the package exports
 *   (`src/index.ts`, `src/inspect/index.ts`, by absolute path), declares the stand-ins for the
 *   free names the example uses (`request`, `lock`, `queue`, `work`, ... below) and does not
 *   declare itself, then the example's lines, line for line. `import ... from 'waitsafe'` and
 *   `'waitsafe/inspect'` in an example are pointed at the sources.
 * - All modules are type-checked by one run of the repository's tsc (strict, es2022, nodenext,
 *   as tsconfig.json), and each is compiled by esbuild (which lowers `using` for Node 20) and
 *   imported by vitest, which maps stack traces back to the example's lines.
 * - Each example must finish within EXAMPLE_TIME_LIMIT_MS and leave nothing behind: no real
 *   timer or interval pending after a macrotask, no abort listener on a stand-in's `signal`
 *   (`request`, `deadline`), no waiter on (and no hold of) a stand-in primitive, and no
 *   `trackWaiters()` left on. Its console output is kept, and shown only if it fails; the default
 *   `maxWaiters` is restored after it. Failures name the example and the line of `src/` that
 *   failed (the assertion's, the thrown error's, or the last statement reached).
 *
 * Node-only (it reads `src/` from disk and spawns tsc), so Node, Bun and Deno run it. Set
 * WAITSAFE_KEEP_TSDOC=1 to keep the generated modules (`$TMPDIR/waitsafe-tsdoc-*`).
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inspect, isDeepStrictEqual } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, getDefaultMaxWaiters, setDefaultMaxWaiters } from '../src/index.js';
import { snapshot } from '../src/inspect/index.js';
import { root } from './compile.js';
import { abortListeners, activeTimeouts, nextMacrotask } from './helpers.js';
import { probe } from './probe.js';

/** How long one example may run. */
const EXAMPLE_TIME_LIMIT_MS = 5_000;

/**
 * Examples that are only type-checked, not run, each with the reason it cannot sensibly run.
 * Keys are example names (`src/file.ts Symbol #n`). Keep this short: prefer fixing the example.
 */
const COMPILE_ONLY: Readonly<Record<string, string>> = {};

/**
 * Folders of `src/` whose examples are only type-checked, with the reason. `waitsafe/redis` needs
 * a Redis server; test/redis.node.test.ts runs the same calls against a real one.
 */
const COMPILE_ONLY_DIRS: Readonly<Record<string, string>> = {
  'src/redis/': 'needs a Redis server',
  'src/shared/': 'needs other threads',
};

/**
 * The stand-ins, declared in an example's prelude when the example uses the name without
 * declaring it. Each is TypeScript in the prelude's scope (everything the package exports is
 * imported there); `needs` are other stand-ins it uses. The objects the test checks afterwards
 * (waiters, holds, listeners) are the stand-ins with a `waiterCount`, `isLocked` or `signal`.
 */
const STANDINS: Readonly<Record<string, { code: string; needs?: readonly string[] }>> = {
  Job: { code: 'interface Job { id: number }' },
  job: { code: 'const job: Job = { id: 2 };', needs: ['Job'] },
  // A queue with one job in it, as a consumer finds it.
  queue: { code: "const queue = new Queue<Job>({ name: 'queue' });\nqueue.putNowait({ id: 1 });", needs: ['Job'] },
  lock: { code: "const lock = new Lock({ name: 'lock' });" },
  semaphore: { code: "const semaphore = new Semaphore(2, { name: 'semaphore' });" },
  cond: { code: "const cond = new Condition({ name: 'cond' });" },
  barrier: { code: "const barrier = new Barrier(2, { name: 'barrier' });" },
  // Set already, so that a wait on it ends at once.
  event: { code: "const event = new Event({ name: 'event' });\nevent.set();" },
  // An incoming request that is not aborted.
  request: { code: 'const request = { signal: new AbortController().signal };' },
  deadline: { code: 'using deadline = new Deadline(5_000);' },
  monitor: { code: 'using monitor = new WaiterMonitor({ interval: 60_000 }).start();' },
  first: { code: 'const first = snapshot();' },
  url: { code: "const url = 'https://example.com/';" },
  // No network: answers at once, and honours its signal.
  fetch: {
    code:
      'async function fetch(input: string | URL, init?: RequestInit): Promise<Response> {\n' +
      '  init?.signal?.throwIfAborted();\n' +
      `  return new Response('the body of ' + String(input));\n` +
      '}',
  },
  work: { code: 'async function work(..._args: unknown[]): Promise<void> {}' },
  run: { code: 'async function run(_what: unknown): Promise<void> {}' },
  writeRow: { code: 'async function writeRow(): Promise<void> {}' },
  stepOne: { code: 'async function stepOne(signal: AbortSignal): Promise<void> {\n  signal.throwIfAborted();\n}' },
  stepTwo: { code: 'async function stepTwo(signal: AbortSignal): Promise<void> {\n  signal.throwIfAborted();\n}' },
  db: { code: 'const db = { read: async (id: number) => ({ id }) };' },
  id: { code: 'const id = 1;' },
  reject: { code: 'function reject(_job: Job): void {}', needs: ['Job'] },
  // waitsafe/redis (whose examples only type-check, see COMPILE_ONLY_DIRS): a connection, and
  // clients of the `redis` and `ioredis` packages as the adapters type them.
  redis: { code: 'declare const redis: RedisLike;' },
  client: { code: 'declare const client: NodeRedisClient;' },
  ioredisClient: { code: 'declare const ioredisClient: IORedisClient;' },
  // waitsafe/shared (whose examples only type-check, see COMPILE_ONLY_DIRS): another thread and
  // what it received, and the shared primitives the method examples use.
  worker: {
    code: "declare const worker: { postMessage(message: unknown): void; threadId: number; on(event: 'exit', listener: () => void): void };",
  },
  workers: { code: 'declare const workers: Array<{ postMessage(message: unknown): void }>;' },
  parent: { code: 'declare const parent: { postMessage(message: unknown): void };' },
  handle: { code: 'declare const handle: SharedHandle;' },
  workerData: { code: 'declare const workerData: Record<string, SharedHandle>;' },
  data: { code: 'declare const data: Record<string, SharedHandle>;' },
  gpu: { code: 'const gpu = new SharedSemaphore(2);' },
  ready: { code: 'const ready = new SharedEvent();' },
  step: { code: 'const step = new SharedBarrier(1);' },
  render: { code: 'async function render(): Promise<void> {}' },
  readRow: { code: 'async function readRow(): Promise<unknown> {\n  return {};\n}' },
  updateSharedCache: { code: 'function updateSharedCache(): void {}' },
};

/** Where the harness lives on `globalThis` for the examples' preludes. */
const HARNESS_KEY = Symbol.for('waitsafe.test.tsdoc-examples');

// ---------------------------------------------------------------------------------------------
// Extraction

/** One example, as written in `src/`. */
interface Example {
  /** `src/file.ts Symbol #n`. */
  name: string;
  /** `src/file.ts`. */
  file: string;
  /** The line of `src/` of its first code line (1-based). */
  startLine: number;
  /** Its code lines, without the comment prefix. */
  lines: string[];
}

/** A problem with an `@example` itself (no code block, an unterminated one). */
interface ExtractionProblem {
  where: string;
  message: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
    });
}

/**
 * The name the declaration after a comment declares: `Name` at the top level, `Container.member`
 * for an (indented) member of a class or interface.
 */
function symbolOf(declaration: string, container: string | undefined): string {
  const top =
    /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:class|function\*?|interface|type|const|let|enum)\s+([\w$]+)/.exec(
      declaration,
    );
  if (top !== null) return top[1] as string;
  const member = declaration
    .trim()
    .replace(/^(?:(?:public|protected|private|static|readonly|override|abstract|declare|async|get|set)\s+|\*\s*)+/, '');
  const name = /^(\[[^\]]+\]|[\w$#]+)/.exec(member)?.[1] ?? member;
  const shown = name === '[disposeSymbol]' ? '[Symbol.dispose]' : name;
  return container === undefined || !/^\s/.test(declaration) ? shown : `${container}.${shown}`;
}

/** Every example of `path` (absolute), and what is wrong with any. */
function extract(path: string): { examples: Example[]; problems: ExtractionProblem[] } {
  const file = relative(root, path).split('\\').join('/');
  const lines = readFileSync(path, 'utf8').split('\n');
  const examples: Example[] = [];
  const problems: ExtractionProblem[] = [];
  const perSymbol = new Map<string, number>();
  let container: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const opens = /^(?:export\s+)?(?:default\s+)?(?:abstract\s+)?(?:class|interface)\s+([\w$]+)/.exec(line);
    if (opens !== null) container = opens[1];
    else if (line.startsWith('}')) container = undefined;
    if (!/^\s*\/\*\*/.test(line)) continue;
    // The comment: lines i..end; the declaration: the next line that is not blank.
    let end = i;
    while (end < lines.length - 1 && !(lines[end] as string).includes('*/')) end++;
    const comment = lines.slice(i, end + 1);
    const declaration = lines.slice(end + 1).find((text) => text.trim() !== '') ?? '';
    const named = comment.some((text) => /@module\b/.test(text)) ? '(module)' : symbolOf(declaration, container);
    const add = (startLine: number, code: string[]) => {
      const n = (perSymbol.get(named) ?? 0) + 1;
      perSymbol.set(named, n);
      examples.push({ name: `${file} ${named} #${n}`, file, startLine, lines: code });
    };
    for (let j = 0; j < comment.length; j++) {
      const text = comment[j] as string;
      const tag = /@example\b(.*)$/.exec(text);
      if (tag === null) continue;
      const where = `${file}:${i + j + 1}`;
      const inline = /^\s*`([^`]+)`/.exec(tag[1] as string);
      if (inline !== null) {
        add(i + j + 1, [inline[1] as string]);
        continue;
      }
      // The fenced block that follows, before the next tag.
      let k = j + 1;
      const strip = (s: string) => s.replace(/^\s*\*(?: |$)/, '').replace(/\s*\*\/\s*$/, '');
      while (k < comment.length && strip(comment[k] as string).trim() === '') k++;
      const fence = k < comment.length ? strip(comment[k] as string).trim() : '';
      if (!/^```(?:ts|typescript)$/.test(fence)) {
        problems.push({ where, message: `@example without a \`\`\`ts block (found ${JSON.stringify(fence)})` });
        continue;
      }
      const code: string[] = [];
      let closed = false;
      for (k++; k < comment.length; k++) {
        const body = strip(comment[k] as string);
        if (body.trim() === '```') {
          closed = true;
          break;
        }
        code.push(body);
      }
      if (!closed) problems.push({ where, message: 'unterminated ```ts block' });
      else add(i + k - code.length + 1, code);
      j = k;
    }
    i = end;
  }
  return { examples, problems };
}

// ---------------------------------------------------------------------------------------------
// Turning an example into a module

/** The end of the JavaScript literal starting at `s[i]` (after spaces), or -1. */
function literalEnd(s: string, i: number): number {
  const skip = (at: number) => {
    while (at < s.length && /\s/.test(s[at] as string)) at++;
    return at;
  };
  i = skip(i);
  const c = s[i];
  if (c === "'" || c === '"' || c === '`') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (c === '`' && s[j] === '$' && s[j + 1] === '{') return -1;
      else if (s[j] === c) return j + 1;
    }
    return -1;
  }
  if (c === '[' || c === '{') {
    const close = c === '[' ? ']' : '}';
    let j = skip(i + 1);
    while (s[j] !== close) {
      if (c === '{') {
        const key = /^(?:[A-Za-z_$][\w$]*|'[^'\\]*'|"[^"\\]*"|\d+)\s*:/.exec(s.slice(j));
        if (key === null) return -1;
        j += key[0].length;
      }
      j = literalEnd(s, j);
      if (j === -1) return -1;
      j = skip(j);
      if (s[j] === ',') j = skip(j + 1);
      else if (s[j] !== close) return -1;
    }
    return j + 1;
  }
  const word =
    /^(?:-?(?:0[xob][\da-f_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:e[+-]?\d+)?n?|Infinity)|NaN|true|false|null|undefined)(?![\w$])/i.exec(
      s.slice(i),
    );
  return word === null ? -1 : i + word[0].length;
}

/** Whether `text` is exactly one JavaScript literal. */
function isLiteral(text: string): boolean {
  const end = literalEnd(text, 0);
  return end !== -1 && text.slice(end).trim() === '';
}

/** `line` split at its `//` comment (outside strings): [code, comment text or undefined]. */
function splitComment(line: string): [string, string | undefined] {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '/' && line[i + 1] === '/') return [line.slice(0, i), line.slice(i + 2).trim()];
  }
  return [line, undefined];
}

/** Whether the brackets of `code` balance (strings skipped), never closing more than opened. */
function balanced(code: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && --depth < 0) return false;
  }
  return depth === 0 && quote === undefined;
}

/**
 * Whether a line whose previous code line ends with `previous` (trimmed, comment removed; `''`
 * for the first line) starts a statement: the previous one ended, or opened a block.
 */
function startsStatement(code: string, previous: string): boolean {
  const text = code.trim();
  if (text === '' || /^(?:[.)\]}?:,=&|+*/<>]|else\b|catch\b|finally\b|import\b|export\b|case\b|default\b)/.test(text)) {
    return false;
  }
  if (previous === '' || previous.endsWith(';') || previous.endsWith('}')) return true;
  if (!previous.endsWith('{') || /^(?:interface|class|type|enum)\b|\breturn\s*\{$/.test(previous)) return false;
  // A `{` after `(`, `,`, `=`, `:`, `[`, `?`, `|` or `&` opens an object literal or a type.
  return !/[(,=:[?|&]\s*\{$/.test(previous);
}

const DECLARATION =
  /^(?:const|let|var|using|await\s+using|return|throw|if|for|while|do|switch|import|export|function|async\s+function|class|interface|type|enum|declare|break|continue|yield)\b/;

/** The imports of the package's entry points: `[name, isType]` per export. */
function exportsOf(entry: string): Array<[string, boolean]> {
  const text = readFileSync(entry, 'utf8');
  const names: Array<[string, boolean]> = [];
  for (const match of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const item of (match[2] as string).split(',')) {
      const spec = item.trim();
      if (spec === '') continue;
      const isType = match[1] !== undefined || spec.startsWith('type ');
      const name = spec
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop() as string;
      names.push([name, isType]);
    }
  }
  return names;
}

const ENTRIES = {
  waitsafe: join(root, 'src', 'index.ts'),
  'waitsafe/inspect': join(root, 'src', 'inspect', 'index.ts'),
  'waitsafe/redis': join(root, 'src', 'redis', 'index.ts'),
  'waitsafe/shared': join(root, 'src', 'shared', 'index.ts'),
} as const;
/** What each entry point exports. */
const EXPORTS = Object.values(ENTRIES).map((entry) => [entry, exportsOf(entry)] as const);
/** Specifiers as tsc resolves them (`.js` for `.ts` under nodenext); the runtime gets the `.ts`. */
const specifierOf = (entry: string) => entry.replace(/\.ts$/, '.js');

/** Identifiers `code` declares anywhere (variables, functions, classes, types, imports). */
function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(
    /\b(?:const|let|var|using|function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  )) {
    names.add(m[1] as string);
  }
  for (const m of code.matchAll(/\b(?:const|let|var)\s*([[{][^=]*[\]}])\s*=/g)) {
    for (const id of (m[1] as string).matchAll(/[A-Za-z_$][\w$]*/g)) names.add(id[0]);
  }
  for (const m of code.matchAll(/\bimport\s*(?:type\s*)?\{([^}]*)\}/g)) {
    for (const id of (m[1] as string).split(',')) {
      const name = id
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name.replace(/^type\s+/, ''));
    }
  }
  return names;
}

/** Identifiers used in `code` (not after a `.`), with comments and string contents removed. */
function usedNames(code: string): Set<string> {
  const bare = code
    .split('\n')
    .map((line) => splitComment(line)[0])
    .join('\n')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''");
  return new Set([...bare.matchAll(/(?<![.\w$])[A-Za-z_$][\w$]*/g)].map((m) => m[0]));
}

/** An example turned into a module. */
interface Prepared {
  example: Example;
  /** The module's TypeScript: prelude, then the example line for line. */
  source: string;
  /** Lines of prelude before the example's first line. */
  preludeLines: number;
  /** The `src/` lines that assert something. */
  assertedLines: number[];
  /** Problems found while preparing it (a result comment that cannot be asserted, ...). */
  problems: string[];
  /** The stand-ins its prelude declares. */
  standins: string[];
}

function prepare(example: Example): Prepared {
  const problems: string[] = [];
  const assertedLines: number[] = [];
  const body: string[] = [];
  // `import ... from 'waitsafe'` in the example: to the sources.
  const lines = example.lines.map((line, i) =>
    line.replace(/(\bfrom\s*)(['"])(waitsafe[^'"]*)\2/, (all, from: string, _q: string, specifier: string) => {
      const entry = ENTRIES[specifier as keyof typeof ENTRIES];
      if (entry === undefined) {
        problems.push(`line ${example.startLine + i}: imports ${specifier}, which is not an entry point`);
        return all;
      }
      return `${from}'${specifierOf(entry)}'`;
    }),
  );
  let previous = '';
  for (const [i, line] of lines.entries()) {
    const srcLine = example.startLine + i;
    const [codePart, comment] = splitComment(line);
    const code = codePart.trimEnd();
    const start = startsStatement(code, previous);
    if (code.trim() !== '') previous = code.trim();
    const indent = /^\s*/.exec(code)?.[0] ?? '';
    const statement = code.trim();
    const throws = comment === undefined ? null : /^throws\s+([A-Za-z_$][\w$]*)\b/.exec(comment);
    const literal = comment !== undefined && isLiteral(comment);
    if (literal || throws !== null) {
      const expr = statement.endsWith(';') ? statement.slice(0, -1).trim() : '';
      if (!start || expr === '' || DECLARATION.test(expr) || !balanced(expr)) {
        problems.push(
          `line ${srcLine}: the result comment \`// ${comment}\` is not on a whole expression statement, so it cannot be checked: ${statement}`,
        );
        body.push(line);
        continue;
      }
      assertedLines.push(srcLine);
      const awaited = /^await\s+/.exec(expr);
      if (throws !== null) {
        const name = JSON.stringify(throws[1]);
        body.push(
          awaited === null
            ? `${indent}__doc.throws(() => ${expr}, ${name}, ${srcLine}); // ${comment}`
            : `${indent}await __doc.rejects(() => ${expr.slice(awaited[0].length)}, ${name}, ${srcLine}); // ${comment}`,
        );
      } else {
        body.push(`${indent}__doc.equal(${expr}, ${comment}, ${srcLine}); // ${comment}`);
      }
      continue;
    }
    // Every statement records its line, for errors whose stack does not reach the example.
    const record = start && !/^(?:interface|type|enum|declare)\b/.test(statement);
    body.push(record ? `${indent}__doc.at(${srcLine}); ${line.slice(indent.length)}` : line);
  }

  const text = example.lines.join('\n');
  const declared = declaredNames(text);
  const used = usedNames(text);
  const standins: string[] = [];
  const need = (name: string) => {
    if (standins.includes(name)) return;
    for (const dep of STANDINS[name]?.needs ?? []) need(dep);
    standins.push(name);
  };
  for (const name of Object.keys(STANDINS)) if (used.has(name) && !declared.has(name)) need(name);

  const prelude: string[] = [`// ${example.name} (${example.file}:${example.startLine})`];
  for (const [entry, exported] of EXPORTS) {
    const names = exported
      .filter(([name]) => !declared.has(name))
      .map(([name, isType]) => (isType ? `type ${name}` : name));
    prelude.push(`import { ${names.join(', ')} } from '${specifierOf(entry)}';`);
  }
  prelude.push(
    'interface DocHarness {',
    '  at(line: number): void;',
    '  equal(actual: unknown, expected: unknown, line: number): void;',
    '  throws(fn: () => unknown, name: string, line: number): void;',
    '  rejects(fn: () => unknown, name: string, line: number): Promise<void>;',
    '}',
    `const __doc = (globalThis as unknown as Record<symbol, { begin(name: string): DocHarness }>)[Symbol.for(${JSON.stringify(HARNESS_KEY.description)})]!.begin(${JSON.stringify(example.name)});`,
  );
  for (const name of standins) prelude.push((STANDINS[name] as { code: string }).code);
  const checked = standins.filter((name) => name !== 'Job');
  prelude.push(`export const __standins: Record<string, unknown> = { ${checked.join(', ')} };`);
  const preludeText = prelude.join('\n');
  return {
    example,
    source: `${preludeText}\n${body.join('\n')}\n`,
    preludeLines: preludeText.split('\n').length,
    assertedLines,
    problems,
    standins,
  };
}

// ---------------------------------------------------------------------------------------------
// The examples

const extracted = sourceFiles(join(root, 'src')).map(extract);
const examples = extracted.flatMap((e) => e.examples);
const extractionProblems = extracted.flatMap((e) => e.problems);
const prepared = new Map(examples.map((example) => [example.name, prepare(example)]));

// ---------------------------------------------------------------------------------------------
// The harness the preludes call

/** What one run of an example recorded. */
interface Run {
  /** The `src/` line of the last statement reached. */
  lastLine: number | undefined;
  /** Asserted lines that ran. */
  ran: Set<number>;
}

let current: { name: string; run: Run } | undefined;

function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity });
}

/** An assertion that failed, at a line of `src/`. */
class ExampleAssertionError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExampleAssertionError';
  }
}

function runOf(name: string): Run {
  if (current?.name !== name) throw new Error(`${name} ran outside its test (still running after it ended?)`);
  return current.run;
}

function errorName(error: unknown): string {
  return error !== null && typeof error === 'object' ? String((error as { name?: unknown }).name) : typeof error;
}

const harness = {
  begin(name: string) {
    runOf(name);
    const reached = (line: number) => {
      const run = runOf(name);
      run.lastLine = line;
      return run;
    };
    return {
      at(line: number): void {
        reached(line);
      },
      equal(actual: unknown, expected: unknown, line: number): void {
        reached(line).ran.add(line);
        if (!isDeepStrictEqual(actual, expected)) {
          throw new ExampleAssertionError(line, `expected ${show(expected)}, got ${show(actual)}`);
        }
      },
      throws(fn: () => unknown, name: string, line: number): void {
        reached(line).ran.add(line);
        try {
          fn();
        } catch (error) {
          if (errorName(error) === name) return;
          throw new ExampleAssertionError(line, `expected it to throw ${name}, it threw ${show(error)}`);
        }
        throw new ExampleAssertionError(line, `expected it to throw ${name}, it returned`);
      },
      async rejects(fn: () => unknown, name: string, line: number): Promise<void> {
        reached(line).ran.add(line);
        try {
          await fn();
        } catch (error) {
          if (errorName(error) === name) return;
          throw new ExampleAssertionError(line, `expected a rejection with ${name}, got ${show(error)}`);
        }
        throw new ExampleAssertionError(line, `expected a rejection with ${name}, it fulfilled`);
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Compiling: tsc over every module, esbuild per module

let dir = '';
/** tsc's errors per example name; errors in no example under `''`. */
const typeErrors = new Map<string, string[]>();
/** The compiled module of each example. */
const compiled = new Map<string, string>();
const fileOf = new Map<string, string>();

function tscErrors(cwd: string, files: readonly string[]): Promise<string> {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const args = [
    '--noEmit',
    '--pretty',
    'false',
    '--strict',
    '--target',
    'es2022',
    '--lib',
    'es2022,esnext.disposable,dom',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--skipLibCheck',
    '--types',
    '',
    ...files,
  ];
  return new Promise((resolve, reject) => {
    execFile(tsc, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      // A failure with errors on stdout is errors reported; anything else is tsc failing.
      if (error !== null && !/\): error TS/.test(stdout)) reject(new Error(`tsc failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `path(line,col): error TS...: message` (with its indented continuation lines) per example. */
function attributeTypeErrors(output: string): void {
  const byFile = new Map([...fileOf].map(([name, file]) => [file, name]));
  let last: string[] | undefined;
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): (error TS\d+: .*)$/.exec(line);
    if (m === null) {
      if (line.trim() !== '' && last !== undefined) last.push(`  ${line.trim()}`);
      continue;
    }
    const name = byFile.get((m[1] as string).split(/[\\/]/).pop() as string);
    const p = name === undefined ? undefined : prepared.get(name);
    const lineNo = Number(m[2]);
    const where =
      p === undefined
        ? `${m[1]}:${lineNo}`
        : lineNo > p.preludeLines
          ? `${p.example.file}:${p.example.startLine + lineNo - p.preludeLines - 1}`
          : `prelude line ${lineNo}`;
    const key = name ?? '';
    const list = typeErrors.get(key) ?? [];
    typeErrors.set(key, list);
    list.push(`${where}: ${m[4]}`);
    last = list;
  }
}

beforeAll(async () => {
  (globalThis as unknown as Record<symbol, unknown>)[HARNESS_KEY] = harness;
  dir = mkdtempSync(join(tmpdir(), 'waitsafe-tsdoc-'));
  const files: string[] = [];
  let n = 0;
  for (const p of prepared.values()) {
    const file = `${String(++n).padStart(3, '0')}.mts`;
    fileOf.set(p.example.name, file);
    files.push(file);
    writeFileSync(join(dir, file), p.source);
  }
  const [output] = await Promise.all([
    tscErrors(dir, files),
    ...[...prepared.values()].map(async (p) => {
      const file = join(dir, fileOf.get(p.example.name) as string);
      const { code } = await transform(p.source, {
        loader: 'ts',
        format: 'esm',
        target: 'es2022',
        sourcemap: 'inline',
        sourcefile: file,
      });
      let js = code;
      for (const entry of Object.values(ENTRIES)) js = js.split(specifierOf(entry)).join(entry);
      const out = file.replace(/\.mts$/, '.mjs');
      writeFileSync(out, js);
      compiled.set(p.example.name, out);
    }),
  ]);
  attributeTypeErrors(output);
}, 120_000);

afterAll(() => {
  delete (globalThis as unknown as Record<symbol, unknown>)[HARNESS_KEY];
  if (dir !== '' && process.env.WAITSAFE_KEEP_TSDOC === undefined) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Running one example

/** The `src/` line an error was thrown at, from its stack (mapped to the module's lines). */
function thrownAt(error: unknown, p: Prepared): number | undefined {
  const file = fileOf.get(p.example.name) as string;
  const stack = error instanceof Error ? String(error.stack) : '';
  for (const m of stack.matchAll(/([\w.-]+\.m[tj]s):(\d+):\d+/g)) {
    if (m[1] !== file) continue;
    const line = Number(m[2]);
    if (line > p.preludeLines) return p.example.startLine + line - p.preludeLines - 1;
  }
  return undefined;
}

function sourceLine(p: Prepared, line: number): string {
  return `${p.example.file}:${line}: ${(p.example.lines[line - p.example.startLine] ?? '').trim()}`;
}

/** Whether `trackWaiters()` is on: then a primitive made now shows up in snapshots. */
function tracking(): boolean {
  const marker = new Event({ name: 'tsdoc-examples: is tracking on?' });
  return snapshot().rows.some((row) => row.name === marker.name);
}

/** Runs the example's module; returns what went wrong, or nothing. */
async function runExample(p: Prepared): Promise<string[]> {
  const run: Run = { lastLine: undefined, ran: new Set() };
  current = { name: p.example.name, run };
  const output: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => void output.push(args.map(String).join(' '));
  // Intervals are not counted by the probe: count them here.
  const intervals = new Set<unknown>();
  const realSetInterval = globalThis.setInterval;
  const realClearInterval = globalThis.clearInterval;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const handle = realSetInterval(...args);
    intervals.add(handle);
    return handle;
  }) as typeof setInterval;
  globalThis.clearInterval = ((handle?: Parameters<typeof clearInterval>[0]) => {
    intervals.delete(handle);
    realClearInterval(handle);
  }) as typeof clearInterval;
  const maxWaiters = getDefaultMaxWaiters();
  const trackingBefore = tracking();
  const timersBefore = activeTimeouts();
  const problems: string[] = [];
  let module: { __standins?: Record<string, unknown> } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const imported = import(/* @vite-ignore */ compiled.get(p.example.name) as string);
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = probe.setTimeout(() => resolve('timeout'), EXAMPLE_TIME_LIMIT_MS);
    });
    const result = await Promise.race([imported, timedOut]);
    if (result === 'timeout') {
      const at = run.lastLine === undefined ? '' : `; last statement reached: ${sourceLine(p, run.lastLine)}`;
      problems.push(`did not finish within ${EXAMPLE_TIME_LIMIT_MS} ms${at}`);
    } else {
      module = result as typeof module;
    }
  } catch (error) {
    const line = error instanceof ExampleAssertionError ? error.line : (thrownAt(error, p) ?? run.lastLine);
    const at = line === undefined ? '' : ` at ${sourceLine(p, line)}`;
    const what = error instanceof ExampleAssertionError ? error.message : `threw ${show(error)}`;
    problems.push(`failed${at}\n  ${what}`);
  } finally {
    probe.clearTimeout(timer);
    globalThis.setInterval = realSetInterval;
    globalThis.clearInterval = realClearInterval;
    for (const handle of intervals) realClearInterval(handle as Parameters<typeof clearInterval>[0]);
    methods.forEach((m, i) => {
      console[m] = saved[i] as (typeof console)[typeof m];
    });
    setDefaultMaxWaiters(maxWaiters);
  }
  if (problems.length === 0) {
    for (const line of p.assertedLines) {
      if (!run.ran.has(line)) problems.push(`the assertion never ran: ${sourceLine(p, line)}`);
    }
    // Nothing left behind, once the shared timers and listeners have had their macrotask.
    await nextMacrotask();
    if (intervals.size > 0) problems.push(`left ${intervals.size} interval(s) running`);
    const timers = activeTimeouts() - timersBefore;
    if (timers > 0) problems.push(`left ${timers} timer(s) pending`);
    for (const [name, value] of Object.entries(module?.__standins ?? {})) {
      const standin = value as { waiterCount?: unknown; isLocked?: unknown; signal?: unknown };
      if (typeof standin.waiterCount === 'number' && standin.waiterCount !== 0) {
        problems.push(`left ${standin.waiterCount} waiter(s) on \`${name}\``);
      }
      if (typeof standin.isLocked === 'function' && standin.isLocked.call(value) === true) {
        problems.push(`left \`${name}\` held (isLocked() is true)`);
      }
      if (standin.signal instanceof AbortSignal && abortListeners(standin.signal) !== 0) {
        problems.push(`left ${abortListeners(standin.signal)} abort listener(s) on \`${name}.signal\``);
      }
    }
    if (!trackingBefore && tracking()) problems.push('left trackWaiters() on');
  }
  current = undefined;
  if (problems.length > 0 && output.length > 0) problems.push(`console output:\n  ${output.join('\n  ')}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The tests

const assertedCount = [...prepared.values()].reduce((sum, p) => sum + p.assertedLines.length, 0);

describe('the TSDoc examples', () => {
  it(`are extracted: ${examples.length} examples, ${assertedCount} asserted lines`, () => {
    expect(extractionProblems.map((p) => `${p.where}: ${p.message}`)).toEqual([]);
    expect(examples.length).toBeGreaterThan(0);
    // Every file with an @example yields its examples.
    for (const path of sourceFiles(join(root, 'src'))) {
      const tags = (readFileSync(path, 'utf8').match(/@example\b/g) ?? []).length;
      const file = relative(root, path).split('\\').join('/');
      expect(examples.filter((e) => e.file === file).length, file).toBe(tags);
    }
  });

  it('allow-list only examples that exist', () => {
    expect(Object.keys(COMPILE_ONLY).filter((name) => !prepared.has(name))).toEqual([]);
  });

  it('type-check with no error outside the examples', () => {
    expect(typeErrors.get('') ?? []).toEqual([]);
  });

  for (const example of examples) {
    const p = prepared.get(example.name) as Prepared;
    const reason =
      COMPILE_ONLY[example.name] ??
      Object.entries(COMPILE_ONLY_DIRS).find(([dir]) => example.file.startsWith(dir))?.[1];
    it(`${example.name} (${example.file}:${example.startLine})${reason === undefined ? '' : ' type-checks'}`, async () => {
      const problems = [...p.problems, ...(typeErrors.get(example.name) ?? [])];
      if (problems.length === 0 && reason === undefined) problems.push(...(await runExample(p)));
      if (problems.length > 0) {
        expect.fail(`${example.name} (${example.file}:${example.startLine}):\n${problems.join('\n')}`);
      }
    }, 30_000);
  }
});
