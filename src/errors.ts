/**
 * The one error type platctl throws on purpose. Every code is listed in docs/errors.md with its cause and fix;
 * the CLI maps an error to its exit code and prints `✗ message` plus the hint, with the stack only under --debug.
 */

/** Process exit codes, documented in docs/errors.md. */
export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  usage: 2,
  aborted: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error code platctl uses, with the exit code it maps to. Keep in sync with docs/errors.md. */
export const ErrorCodes = {
  CONFIG_NOT_FOUND: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  CLUSTER_NOT_IN_CONFIG: ExitCode.usage,
  USAGE: ExitCode.usage,
  UNKNOWN_STEP: ExitCode.usage,
  NO_TTY: ExitCode.usage,
  STEP_FAILED: ExitCode.stepFailed,
  STATE_CORRUPT: ExitCode.stepFailed,
  STATE_CONFLICT: ExitCode.stepFailed,
  STATE_ELSEWHERE: ExitCode.stepFailed,
  LOCK_HELD: ExitCode.aborted,
  ABORTED: ExitCode.aborted,
  KUBE_UNREACHABLE: ExitCode.stepFailed,
  KUBE_API: ExitCode.stepFailed,
  KUBE_CONFLICT: ExitCode.stepFailed,
  AWS_CREDENTIALS: ExitCode.stepFailed,
  AWS_ACCOUNT_MISMATCH: ExitCode.usage,
  PREFLIGHT_FAILED: ExitCode.usage,
  AWS_API: ExitCode.stepFailed,
  AWS_ACCESS_DENIED: ExitCode.stepFailed,
  VAULT_INIT_LOST: ExitCode.stepFailed,
  GITHOST_TOKEN: ExitCode.usage,
  GITHOST_PERMISSION: ExitCode.usage,
  GITHOST_API: ExitCode.stepFailed,
  TIMEOUT: ExitCode.stepFailed,
  TOOL_MISSING: ExitCode.stepFailed,
  TOOL_FAILED: ExitCode.stepFailed,
  DOCTOR_FAILED: ExitCode.stepFailed,
  INTERNAL: ExitCode.stepFailed,
} as const satisfies Record<string, ExitCode>;
export type ErrorCode = keyof typeof ErrorCodes;

/** Options for {@link PlatctlError}: what to do about it, and what caused it. */
export interface PlatctlErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Overrides the exit code implied by the error code. */
  exitCode?: ExitCode;
}

/** The branded platctl error: a stable code, a one-line message, an optional hint and the low-level cause. */
export class PlatctlError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: ExitCode;
  /** Brand so errors crossing module copies are still recognised. */
  readonly isPlatctlError = true;

  constructor(code: ErrorCode, message: string, options: PlatctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlatctlError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ErrorCodes[code];
  }
}

/** True for a {@link PlatctlError}, also one thrown by another copy of this module. */
export function isPlatctlError(err: unknown): err is PlatctlError {
  return typeof err === 'object' && err !== null && (err as { isPlatctlError?: unknown }).isPlatctlError === true;
}

/** A one-line description of any thrown value, for wrapping low-level causes. */
export function describeError(err: unknown): string {
  if (isPlatctlError(err)) return err.message;
  if (err instanceof Error) {
    const name = (err as { name?: string; Code?: string }).Code ?? err.name;
    const msg = err.message.split('\n')[0] ?? '';
    return name && name !== 'Error' && !msg.startsWith(name) ? `${name}: ${msg}` : msg;
  }
  return String(err);
}

/** Wraps a low-level failure as "<what>: <cause>", keeping the cause. A PlatctlError passes through unchanged. */
export function wrapError(code: ErrorCode, what: string, err: unknown, hint?: string): PlatctlError {
  if (isPlatctlError(err)) return err;
  return new PlatctlError(code, `${what}: ${describeError(err)}`, { cause: err, hint });
}
