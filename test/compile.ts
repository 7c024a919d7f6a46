/**
 * Compiling test fixtures the way TypeScript compiles an application for Node 20 (es2022 with
 * `using` downleveled, nodenext modules), for the tests that run them in a child process.
 */

import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

/** Compiles `files` (paths under `dir`) with the repository's tsc into `dir/out`. */
export function compileForNode20(dir: string, files: readonly string[]): void {
  execFileSync(
    tsc,
    [
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--lib',
      'es2022,esnext.disposable,dom',
      '--strict',
      '--skipLibCheck',
      '--types',
      '',
      '--rootDir',
      dir,
      '--outDir',
      join(dir, 'out'),
      ...files,
    ],
    { cwd: dir, encoding: 'utf8' },
  );
}

/**
 * The arguments that run a script with Node-style `nodeArgs` on the runtime running the tests
 * (`process.execPath`): Node and Bun take them as they are; Deno needs `run`, resolves bare
 * specifiers from `node_modules` only when told to, and spells `--import` as `--preload` and
 * `--expose-gc` as a V8 flag.
 */
export function runtimeArgs(nodeArgs: readonly string[]): string[] {
  if (!('Deno' in globalThis)) return [...nodeArgs];
  const args = ['run', '--allow-all', '--node-modules-dir=manual'];
  for (let i = 0; i < nodeArgs.length; i++) {
    const arg = nodeArgs[i] as string;
    if (arg === '--import') args.push('--preload', nodeArgs[++i] as string);
    else if (arg === '--expose-gc') args.push('--v8-flags=--expose-gc');
    else args.push(arg);
  }
  return args;
}
