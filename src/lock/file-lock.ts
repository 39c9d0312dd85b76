/**
 * The run lock while state is local: ~/.platctl/<cluster>/lock, created exclusively. A lock whose process is
 * gone (same host) is taken over with a warning; a live one makes the second run exit 3 unless --break-lock.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PlatctlError } from '../errors.js';
import type { Logger } from '../log.js';
import { clusterDir } from '../paths.js';
import { formatAge, holderIdentity, holderIsDead } from './holder.js';

/** A held run lock. */
export interface RunLock {
  readonly kind: 'file' | 'lease';
  release(): Promise<void>;
}

interface LockFile {
  holder: string;
  acquiredAt: string;
  command: string;
}

/** Takes the local lock file for a cluster. */
export async function acquireFileLock(
  cluster: string,
  opts: { breakLock?: boolean; command: string; log: Logger },
): Promise<RunLock> {
  const file = path.join(clusterDir(cluster), 'lock');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const mine: LockFile = { holder: holderIdentity(), acquiredAt: new Date().toISOString(), command: opts.command };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, JSON.stringify(mine), { flag: 'wx', mode: 0o600 });
      return {
        kind: 'file',
        release: async () => {
          const now = await readLock(file);
          if (now?.holder === mine.holder) await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = await readLock(file);
    if (held && !opts.breakLock && !holderIsDead(held.holder)) {
      throw new PlatctlError(
        'LOCK_HELD',
        `cluster ${cluster} is locked by ${held.holder} (${held.command}) for ${formatAge(new Date(held.acquiredAt))}`,
        { hint: `wait for that run to finish; if it is gone, re-run with --break-lock (lock file ${file})` },
      );
    }
    opts.log.warning(`taking over the lock left by ${held?.holder ?? 'an unreadable lock file'}`);
    await rm(file, { force: true });
  }
  throw new PlatctlError('LOCK_HELD', `could not take the lock file ${file}: another run keeps taking it`);
}

async function readLock(file: string): Promise<LockFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockFile;
  } catch {
    return undefined;
  }
}
