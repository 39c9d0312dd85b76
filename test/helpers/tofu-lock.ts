/**
 * Reads the lock file a running tofu process holds (`.terraform.tfstate.lock.info`), waiting for it to appear
 * and be complete: tofu starts slowly on a busy machine, and writes the file after creating it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The parsed lock info ({ ID, Who, Operation, … }); fails after `ms`. */
export async function waitForTofuLock(dir: string, ms = 60_000): Promise<{ ID: string; Who: string }> {
  const file = path.join(dir, '.terraform.tfstate.lock.info');
  for (const end = Date.now() + ms; ; await sleep(100)) {
    const info = await readFile(file, 'utf8').then(
      (t) => JSON.parse(t) as { ID: string; Who: string },
      () => undefined,
    );
    if (info?.ID) return info;
    if (Date.now() > end) throw new Error(`no complete ${file} after ${ms / 1000}s`);
  }
}
