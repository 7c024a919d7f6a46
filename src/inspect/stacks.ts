/**
 * Creation sites: the line of the caller that created a primitive, from a stack trace.
 *
 * Frames are skipped by function, not by file: where the runtime has `Error.captureStackTrace`
 * (V8 in Node, Chromium and Deno; JavaScriptCore in Bun and Safari; SpiderMonkey in recent
 * Firefox), the stack is captured from the caller of the primitive's constructor, so waitsafe's
 * own frames are never in it, even when waitsafe is bundled into the application's file.
 * Elsewhere the constructor frames are counted off the top of a plain `new Error().stack`.
 * Runtime-internal frames (`node:`, `internal/`, Deno's `ext:`) are skipped either way, and so
 * are frames in waitsafe's own directory when it is loaded unbundled.
 *
 * Stacks come in two formats: V8's `    at fn (file:line:col)` / `    at file:line:col`, and
 * SpiderMonkey's and JavaScriptCore's `fn@file:line:col` / `@file:line:col`.
 *
 * @module
 */

import type { AnyClass } from '../core/state.js';

/** One frame: where it is, without the column. */
export interface Frame {
  readonly file: string;
  readonly line: string;
}

/** The frames of a stack in V8 or SpiderMonkey/JavaScriptCore format, top first. */
export function parseFrames(stack: string | undefined): Frame[] {
  const out: Frame[] = [];
  if (stack === undefined) return out;
  for (const raw of stack.split('\n')) {
    const text = raw.trim();
    let location: string;
    if (text.startsWith('at ')) {
      // V8: `at name (location)` or `at location`. A name holds no slash, a path may hold spaces
      // and parentheses, and (flag `s`) line or paragraph separators, which `.` alone would not match.
      location = (/^at (?:[^/\\(]*? \()?(.+?)\)?$/s.exec(text) as RegExpExecArray)[1] as string;
    } else {
      // SpiderMonkey / JavaScriptCore: `name@location`; names hold no `@`, paths may (`@scope`).
      const at = text.indexOf('@');
      if (at === -1) continue;
      location = text.slice(at + 1);
    }
    // Stryker disable next-line Regex: without `^` the match still starts at the line's start, as `.*` (any character, flag `s`) can take any prefix; the `$` sibling is killed by test/inspect-mutants.test.ts
    const match = /^(.*):(\d+):\d+$/s.exec(location);
    if (match === null) continue;
    let file = match[1] as string;
    // A URL's query (a dev server's `?v=...`, `?import`) is not part of where the code is.
    if (/^[a-z]+:\/\//.test(file) && file.includes('?')) file = file.slice(0, file.indexOf('?'));
    if (file.startsWith('file://')) {
      try {
        file = decodeURIComponent(new URL(file).pathname);
      } catch {
        // keep the URL as it is
      }
    }
    out.push({ file, line: match[2] as string });
  }
  return out;
}

/** Whether a frame is the runtime's own code. */
function isRuntimeFrame(file: string): boolean {
  return file.startsWith('node:') || file.startsWith('internal/') || file.startsWith('ext:') || file === 'native';
}

/** The directory waitsafe's modules are in (dist/esm, dist/cjs, src), if the runtime tells; not in a bundle. */
const ownRoot: string | undefined = (() => {
  const frame = parseFrames(new Error().stack)[0];
  // Flag `s`: a path may hold line or paragraph separators.
  // Stryker disable next-line Regex: this module's own file ends in stacks.ts (src) or stacks.js (dist), so `[^cm]?` for `[cm]?` and no `$` match the same, and without `^` the match starts at the start anyway (`.*` takes any prefix); the other Regex mutants are killed by test/inspect-mutants.test.ts
  const match = frame === undefined ? null : /^(.*)[/\\]inspect[/\\]stacks\.[cm]?[jt]s$/s.exec(frame.file);
  return match?.[1];
})();

/** How many constructors run for `maker`: its own and each of the classes it extends. */
function constructorDepth(maker: AnyClass): number {
  let depth = 0;
  for (let c: unknown = maker; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    depth++;
  }
  return depth;
}

type CaptureStackTrace = (target: object, constructorOpt?: AnyClass) => void;

/**
 * The frames of the stack from the caller of the constructor of `maker`. `above` is how many frames of
 * waitsafe's run between this function and that constructor's frames when the stack has to be
 * counted (no `Error.captureStackTrace`).
 */
export function callerFrames(maker: AnyClass, above: number): Frame[] {
  const capture = (Error as { captureStackTrace?: CaptureStackTrace }).captureStackTrace;
  if (typeof capture === 'function') {
    const holder: { stack?: string } = {};
    capture(holder, maker);
    const frames = parseFrames(holder.stack);
    // Some engines ignore a constructor they cannot find; then nothing was skipped.
    if (frames.length > 0) return frames;
  }
  // This function's own frame, the callers above it, then one frame per constructor.
  return parseFrames(new Error().stack).slice(1 + above + constructorDepth(maker));
}

/** Interned sites: one flat string per distinct site, shared by every primitive made there. */
const sites = new Map<string, string>();

/**
 * The creation site of a primitive built by `maker` (or on its behalf), as `path:line`,
 * relative to the working directory where there is one. `above`: see {@link callerFrames}.
 */
export function siteOf(maker: AnyClass, above: number): string | undefined {
  const cwd = (globalThis as { process?: { cwd?: () => string } }).process?.cwd?.();
  for (const frame of callerFrames(maker, above + 1)) {
    if (isRuntimeFrame(frame.file)) continue;
    if (ownRoot !== undefined && frame.file.startsWith(ownRoot)) continue;
    let file = frame.file;
    if (cwd !== undefined && (file.startsWith(`${cwd}/`) || file.startsWith(`${cwd}\\`))) {
      file = file.slice(cwd.length + 1);
    }
    const site = `${file}:${frame.line}`;
    let interned = sites.get(site);
    // Stryker disable next-line ConditionalExpression: `true` interns an equal copy again, which only costs memory and time; `false` (no site at all) is killed by test/inspect-mutants.test.ts
    if (interned === undefined) {
      // A copy, so that the site does not keep the whole stack text alive (V8 would keep a
      // string built from slices of it pointing into it).
      interned = JSON.parse(JSON.stringify(site)) as string;
      sites.set(interned, interned);
    }
    return interned;
  }
  return undefined;
}
