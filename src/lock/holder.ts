/** Who holds a run lock, and whether that holder is provably dead (same host, process gone). */
import os from 'node:os';
import { whoAmI } from '../paths.js';

/** Identity written into lock files and Leases: user@host:pid. */
export function holderIdentity(): string {
  return `${whoAmI()}:${process.pid}`;
}

/** True when the holder ran on this host and its process no longer exists: a crashed run's lock. */
export function holderIsDead(identity: string): boolean {
  const m = /^[^@]*@(.+):(\d+)$/.exec(identity);
  if (!m || m[1] !== os.hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** "3m12s" style age for messages. */
export function formatAge(since: Date, now = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
