/** Where platctl keeps things on disk: the package root (templates/) and the per-cluster home (~/.platctl). */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'platctl') return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start, '..', '..');
    dir = up;
  }
}

/** Root of the platctl package: the folder holding package.json, templates/ and docs/. */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** platctl's home: $PLATCTL_HOME, or ~/.platctl. */
export function platctlHome(): string {
  return process.env.PLATCTL_HOME ?? path.join(os.homedir(), '.platctl');
}

/** The folder for one cluster's local files: journal, lock file, Vault init output, terraform workdir. */
export function clusterDir(cluster: string): string {
  return path.join(platctlHome(), cluster);
}

/** "user@host", recorded as who ran a step. */
export function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return `${user}@${os.hostname()}`;
}
