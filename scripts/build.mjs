// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own declarations.
// dist/cjs/package.json marks its .js and .d.ts files as CommonJS for Node and TypeScript.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tsc = join('node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(tsc, ['-p', project], { stdio: 'inherit' });
}
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
