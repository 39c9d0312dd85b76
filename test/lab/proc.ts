/**
 * Running commands and detached services for the lab: logged commands, pid records,
 * liveness checks that survive pid reuse, and stopping a service's process group.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { labPaths, logFile } from './config.js';

/** An error that names the failing component, the command and the log to read. */
export class LabError extends Error {
  constructor(
    readonly component: string,
    readonly command: string,
    readonly log: string,
    detail: string,
    /** Last lines of the log, shown after the pointers. */
    tail?: string,
  ) {
    const last = tail ? `\n--- last lines of ${log} ---\n${tail}` : '';
    super(`lab: ${component}: ${detail}\n  command: ${command}\n  log: ${log}${last}`);
    this.name = 'LabError';
  }
}

/** Quotes a word for sh when it needs it. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Shell-ish rendering of a command line, for messages. */
export function showCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(shellQuote).join(' ');
}

/** Options for {@link runLogged}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  /** Log file name under `.lab/logs` (without `.log`); defaults to the component. */
  logName?: string;
}

/** Runs a command to completion, appending its output to the component's log; throws a {@link LabError}. */
export async function runLogged(
  component: string,
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<string> {
  const log = logFile(opts.logName ?? component);
  mkdirSync(dirname(log), { recursive: true });
  const line = showCommand(cmd, args);
  const fd = openSync(log, 'a');
  writeSync(fd, `\n$ ${line}\n`);
  try {
    const res = await execa(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      input: opts.input,
      reject: false,
      stdout: 'pipe',
      stderr: ['pipe', { file: log, append: true }],
    });
    writeSync(fd, res.stdout ?? '');
    if (res.failed) {
      const why = res.exitCode === undefined ? (res.originalMessage ?? 'could not run') : `exit ${res.exitCode}`;
      throw new LabError(component, line, log, `command failed (${why})`);
    }
    return res.stdout ?? '';
  } finally {
    closeSync(fd);
  }
}

/** What `.lab/run/<name>.json` records about a running service. */
export interface PidRecord {
  name: string;
  pid: number;
  cmd: string;
  args: string[];
  version: string;
  address: string;
  /** sha256 of the service's config text, when it has one (see ServiceSpec.fingerprint). */
  fingerprint?: string;
}

/** Path of a service's pid record. */
export function pidFile(name: string): string {
  return join(labPaths().run, `${name}.json`);
}

/** Reads a service's pid record, if any. */
export function readPidRecord(name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(name), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** True when the recorded process is alive and still runs the recorded binary (not a reused pid). */
export function isRunning(rec: PidRecord | undefined): rec is PidRecord {
  if (!rec) return false;
  try {
    process.kill(rec.pid, 0);
    const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    // A zombie is dead for our purposes.
    if (/\) Z /.test(stat)) return false;
    // Scripts show their interpreter first and sshd rewrites its title: match the binary's name anywhere.
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    return cmdline.includes(basename(rec.cmd));
  } catch {
    return false;
  }
}

/** Starts a detached service (own session/process group), output to its log; records its pid. */
export async function spawnDetached(rec: Omit<PidRecord, 'pid'>, env?: Record<string, string>): Promise<PidRecord> {
  const log = logFile(rec.name);
  mkdirSync(dirname(log), { recursive: true });
  mkdirSync(labPaths().run, { recursive: true });
  const fd = openSync(log, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} $ ${showCommand(rec.cmd, rec.args)}\n`);
  const child = spawn(rec.cmd, rec.args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
    cwd: labPaths().dir,
  });
  closeSync(fd);
  const pid = await new Promise<number>((res, rej) => {
    child.once('error', (e) => rej(new LabError(rec.name, showCommand(rec.cmd, rec.args), log, e.message)));
    child.once('spawn', () => res(child.pid ?? -1));
  });
  child.unref();
  const full: PidRecord = { ...rec, pid };
  await writeFile(pidFile(rec.name), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Stops a service's process group (TERM, then KILL after a grace period) and drops its pid record. */
export async function stopService(name: string, graceMs = 10_000): Promise<boolean> {
  const rec = readPidRecord(name);
  const alive = isRunning(rec);
  if (alive) {
    signalGroup(rec.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRunning(rec) && Date.now() < deadline) await sleep(100);
    if (isRunning(rec)) signalGroup(rec.pid, 'SIGKILL');
    while (isRunning(rec)) await sleep(50);
  }
  await rm(pidFile(name), { force: true });
  return alive;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Last lines of a log, to put in an error message. */
export async function logTail(path: string, lines = 15): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The processes `pid` started, and theirs, that still run in its session (from /proc): what a test file left
 * running. Detached lab services (their own session, {@link spawnDetached}) and zombies are not counted.
 */
export function sessionDescendants(pid = process.pid): { pid: number; cmd: string }[] {
  const procs = new Map<number, { ppid: number; session: number; zombie: boolean }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command's ")": state [0], ppid [1], pgrp [2], session [3].
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(f[1]), session: Number(f[3]), zombie: f[0] === 'Z' });
    } catch {
      // Gone meanwhile.
    }
  }
  const session = procs.get(pid)?.session;
  const found: { pid: number; cmd: string }[] = [];
  const walk = (parent: number) => {
    for (const [child, p] of procs) {
      if (p.ppid !== parent) continue;
      walk(child);
      if (p.session !== session || p.zombie) continue;
      let cmd = '?';
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 120);
      } catch {
        // Gone meanwhile.
      }
      found.push({ pid: child, cmd });
    }
  };
  walk(pid);
  return found;
}
