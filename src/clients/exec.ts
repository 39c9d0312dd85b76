/**
 * Running external tools (terraform/tofu, helm, git, ssh-keyscan) behind a narrow interface. Arguments are
 * always an array (no shell); secrets go through stdin or files, never argv.
 */
import { PlatctlError } from '../errors.js';

/** Options for one command. */
export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Written to stdin (for secrets). */
  input?: string;
  /** Called with each stdout line as it arrives (progress streaming). */
  onLine?: (line: string) => void;
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

/** The real {@link Exec}, over execa (imported lazily). */
export function createExec(): Exec {
  return {
    async run(file, args, opts = {}) {
      const { execa } = await import('execa');
      const child = execa(file, args, {
        cwd: opts.cwd,
        env: opts.env,
        input: opts.input,
        reject: false,
        timeout: opts.timeoutMs,
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
      const r = await child;
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
      if (exitCode !== 0 && !(opts.okExitCodes ?? []).includes(exitCode)) {
        const last = result.stderr.trim().split('\n').slice(-3).join(' | ') || (r.timedOut ? 'timed out' : '');
        throw Object.assign(new PlatctlError('TOOL_FAILED', `${file} ${args[0] ?? ''} exited ${exitCode}: ${last}`), {
          result,
        });
      }
      return result;
    },
  };
}
