/**
 * The built CLI (`bin/platctl` → dist/) for the tests that run it as users do. A clone's `npm ci` does not build
 * (the package builds in `prepack`, so an install runs no script); `npm test` builds first, and a test file
 * run on its own builds here when dist/ is missing or older than its sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/paths.js';

/** The CLI's bin shim. */
export const platctlBin = path.join(packageRoot, 'bin', 'platctl');

/** True when dist/ is older than a source it is built from. */
function distIsStale(): boolean {
  const built = path.join(packageRoot, 'dist', 'main.js');
  if (!existsSync(built)) return true;
  const newest = ['src', 'steps']
    .flatMap((d) => readdirSync(path.join(packageRoot, d), { recursive: true }).map((f) => path.join(d, String(f))))
    .concat(['package.json', 'package-lock.json', 'scripts/build.mjs'])
    .reduce((m, f) => Math.max(m, statSync(path.join(packageRoot, f)).mtimeMs), 0);
  return newest > statSync(built).mtimeMs;
}

/**
 * Builds dist/ only when stale: a rebuild empties dist/ first, under any CLI another test file is running.
 * Call from a beforeAll with a generous timeout.
 */
export function ensureBuiltCli(): void {
  if (!distIsStale()) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: packageRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build exited ${build.status}:\n${build.stderr.slice(-2000)}`);
}
