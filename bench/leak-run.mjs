// `npm run leak` (after the build): runs bench/leak.mjs, then bench/leak-signals.mjs, each in
// its own `node --expose-gc` child process, and stops at the first that fails.
//
//   npm run leak                    the chart goes to .bench-tmp/leak.svg (git-ignored)
//   npm run leak -- --update-docs   the chart replaces docs/leak.svg, the one the README shows
//
// npm appends the arguments after `--` to the last command of a script only, so the script runs
// this one file, which hands them to bench/leak.mjs (the only one that writes a file).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

function run(file, fileArgs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(here, file), ...fileArgs], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

for (const [file, fileArgs] of [
  ['leak.mjs', args],
  ['leak-signals.mjs', []],
]) {
  const status = await run(file, fileArgs);
  if (status !== 0) {
    console.error(`\nbench/${file} failed (${status})`);
    process.exit(typeof status === 'number' ? status : 1);
  }
}
