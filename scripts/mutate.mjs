/**
 * `npm run mutate`: Stryker over all of src/ in two runs (CONTRIBUTING.md, "Mutation testing"):
 * src/ but src/redis with the in-process tests (stryker.config.mjs), then src/redis with its
 * Redis tests too (stryker.redis.config.mjs), which need `redis-server` on the PATH.
 *
 *   npm run mutate                                   both runs
 *   npm run mutate -- --mutate src/core/stores.ts    the run that covers these files, restricted
 *   npm run mutate -- --force                        any other Stryker option goes to both runs
 *
 * Exits non-zero if a run fails (or cannot start).
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stryker = join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const args = process.argv.slice(2);

const CONFIGS = { src: 'stryker.config.mjs', redis: 'stryker.redis.config.mjs' };

/** The patterns after `--mutate` (or `-m`), comma-separated, if any. */
function mutatePatterns() {
  const at = args.findIndex((arg) => arg === '--mutate' || arg === '-m');
  if (at >= 0) return (args[at + 1] ?? '').split(',').filter((p) => p !== '');
  const inline = args.find((arg) => arg.startsWith('--mutate='));
  return inline === undefined ? undefined : inline.slice('--mutate='.length).split(',');
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function runs() {
  const patterns = mutatePatterns();
  if (patterns === undefined) return ['src', 'redis'];
  const redis = patterns.filter((p) => p.replace(/^!/, '').startsWith('src/redis'));
  if (redis.length === patterns.length) return ['redis'];
  if (redis.length === 0) return ['src'];
  console.error('npm run mutate: --mutate mixes src/redis with other files; run them separately');
  process.exit(2);
}

for (const run of runs()) {
  if (run === 'redis' && !onPath('redis-server')) {
    console.error('npm run mutate: src/redis needs redis-server on the PATH (.ci/run installs it); not run');
    process.exit(1);
  }
  console.log(`\n== npm run mutate: ${run === 'src' ? 'src/ but src/redis' : 'src/redis'} (${CONFIGS[run]})`);
  const result = spawnSync(process.execPath, [stryker, 'run', CONFIGS[run], ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
