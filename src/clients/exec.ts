/**
 * Running external tools (terraform/tofu, helm, git, ssh-keyscan) behind a narrow interface. Arguments are
 * always an array (no shell); secrets go through stdin or files, never argv.
 */
import { PlatctlError } from '../errors.js';
import {
  defaultLimitMs,
  expiryOf,
  gitSshEnv,
  informativeLines,
  killGraceMs,
  sshTimedOut,
  waitLabel,
} from './exec-bounds.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from './timeouts.js';
import { noticeWhile, timeoutError } from './waiting.js';

/** Options for one command. */
export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Written to stdin (for secrets). */
  input?: string;
  /** Called with each stdout line as it arrives (progress streaming). */
  onLine?: (line: string) => void;
  /** Overall limit; default per tool from `timeouts` (git 5 min, helm 10 min, terraform 90 min). */
  timeoutMs?: number;
  /** Exit codes that are not failures (terraform plan -detailed-exitcode returns 2 for "changes"). */
  okExitCodes?: number[];
}

/** What a command produced. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a program. Throws TOOL_MISSING when it is not installed, TOOL_FAILED on a non-ok exit code. */
export interface Exec {
  run(file: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

/**
 * The real {@link Exec}, over execa (imported lazily). Every run is bounded (an overall limit per tool, ssh's
 * ConnectTimeout for git), says "waiting for git ls-remote <url>… 20 s" while it waits (unless it streams its
 * own progress), and a run that hits its limit fails with TIMEOUT naming what it talks to.
 */
export function createExec(o: { timeouts?: Timeouts } = {}): Exec {
  const t = o.timeouts ?? DEFAULT_TIMEOUTS;
  return {
    async run(file, args, opts = {}) {
      const { execa } = await import('execa');
      const limit = opts.timeoutMs ?? defaultLimitMs(file, t);
      const sshEnv = file === 'git' ? gitSshEnv(opts.env, t) : undefined;
      const child = execa(file, args, {
        cwd: opts.cwd,
        env: sshEnv ? { ...opts.env, ...sshEnv } : opts.env,
        input: opts.input,
        reject: false,
        timeout: limit,
        forceKillAfterDelay: killGraceMs(file),
        stripFinalNewline: true,
        buffer: true,
      });
      if (opts.onLine && child.stdout) {
        let pending = '';
        child.stdout.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line) opts.onLine?.(line);
        });
      }
      const stopNotice = opts.onLine ? () => {} : noticeWhile(waitLabel(file, args));
      const r = await child.finally(stopNotice);
      if (r.timedOut) throw timeoutError(expiryOf(file, args), limit);
      if (
        (r as { code?: string }).code === 'ENOENT' ||
        (r.failed && r.exitCode === undefined && /ENOENT/.test(String(r.message)))
      ) {
        throw new PlatctlError('TOOL_MISSING', `${file} is not installed or not on PATH`, {
          hint: 'run `platctl doctor` to see which tools platctl needs',
        });
      }
      const exitCode = r.exitCode ?? 1;
      const result = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode };
      // ssh gave up on a host that accepted the connection but never spoke SSH: a timeout, not an auth failure.
      if (exitCode !== 0 && sshTimedOut(file, result.stderr))
        throw timeoutError(expiryOf(file, args), t.sshConnectMs, Object.assign(new Error(result.stderr), { result }));
      if (exitCode !== 0 && !(opts.okExitCodes ?? []).includes(exitCode)) {
        const last = informativeLines(result.stderr).slice(-3).join(' | ');
        throw Object.assign(new PlatctlError('TOOL_FAILED', `${file} ${args[0] ?? ''} exited ${exitCode}: ${last}`), {
          result,
        });
      }
      return result;
    },
  };
}
