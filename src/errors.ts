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

/**
 * Every error code platctl uses, with the exit code it maps to. A code names what the user does about the
 * failure; docs/errors.md has a row (and an anchor, {@link errorDoc}) per code.
 */
export const ErrorCodes = {
  CONFIG_NOT_FOUND: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  CLUSTER_NOT_IN_CONFIG: ExitCode.usage,
  USAGE: ExitCode.usage,
  UNKNOWN_STEP: ExitCode.usage,
  NO_TTY: ExitCode.usage,
  /** A step failed with an error platctl did not anticipate (the message says which step and why). */
  STEP_FAILED: ExitCode.stepFailed,
  STATE_CORRUPT: ExitCode.stepFailed,
  STATE_CONFLICT: ExitCode.stepFailed,
  STATE_ELSEWHERE: ExitCode.stepFailed,
  LOCK_HELD: ExitCode.aborted,
  ABORTED: ExitCode.aborted,
  KUBE_UNREACHABLE: ExitCode.stepFailed,
  KUBE_API: ExitCode.stepFailed,
  KUBE_CONFLICT: ExitCode.stepFailed,
  KUBE_TIMEOUT: ExitCode.stepFailed,
  KIND_NOT_SERVED: ExitCode.stepFailed,
  AWS_CREDENTIALS: ExitCode.stepFailed,
  AWS_ACCOUNT_MISMATCH: ExitCode.usage,
  PREFLIGHT_FAILED: ExitCode.usage,
  AWS_API: ExitCode.stepFailed,
  AWS_ACCESS_DENIED: ExitCode.stepFailed,
  TERRAFORM_FAILED: ExitCode.stepFailed,
  TERRAFORM_STATE_LOST: ExitCode.stepFailed,
  CLUSTER_OUTPUT_MISSING: ExitCode.stepFailed,
  EKS_CLUSTER_MISSING: ExitCode.stepFailed,
  EKS_CLUSTER_UNHEALTHY: ExitCode.stepFailed,
  ISTIO_REVISION_MISMATCH: ExitCode.stepFailed,
  ISTIO_UPGRADE_IN_PROGRESS: ExitCode.stepFailed,
  ISTIO_REVISION_IN_USE: ExitCode.stepFailed,
  ISTIO_TAG: ExitCode.stepFailed,
  VAULT_UNREACHABLE: ExitCode.stepFailed,
  VAULT_API: ExitCode.stepFailed,
  VAULT_TLS: ExitCode.stepFailed,
  VAULT_NOT_INITIALISED: ExitCode.stepFailed,
  VAULT_SEALED: ExitCode.stepFailed,
  VAULT_UNSEAL_RESET: ExitCode.stepFailed,
  VAULT_INIT_LOST: ExitCode.stepFailed,
  VAULT_INIT_ELSEWHERE: ExitCode.stepFailed,
  VAULT_INIT_PLAINTEXT: ExitCode.stepFailed,
  VAULT_INIT_FILE: ExitCode.stepFailed,
  FLUX_MANIFESTS: ExitCode.stepFailed,
  FLUX_NOT_READY: ExitCode.stepFailed,
  PLATFORM_VARS_MISSING: ExitCode.stepFailed,
  FLEET_REPO: ExitCode.stepFailed,
  DEPLOY_KEY_DENIED: ExitCode.stepFailed,
  DEPLOY_KEY_INVALID: ExitCode.stepFailed,
  DEPLOY_KEY_MISSING: ExitCode.stepFailed,
  DEPLOY_KEY_CONFLICT: ExitCode.stepFailed,
  WEBHOOK_TOKEN_INVALID: ExitCode.stepFailed,
  TENANT_GATEWAY_MISSING: ExitCode.stepFailed,
  LOAD_BALANCER_WAIT_TIMEOUT: ExitCode.stepFailed,
  LOAD_BALANCERS_LEFT: ExitCode.stepFailed,
  ORPHANS_LEFT: ExitCode.stepFailed,
  GITHOST_TOKEN: ExitCode.usage,
  GITHOST_PERMISSION: ExitCode.usage,
  GITHOST_API: ExitCode.stepFailed,
  TIMEOUT: ExitCode.stepFailed,
  WAIT_TIMEOUT: ExitCode.stepFailed,
  STORAGE_CLASS_CONFLICT: ExitCode.stepFailed,
  TOOL_MISSING: ExitCode.stepFailed,
  TOOL_FAILED: ExitCode.stepFailed,
  INTERNAL: ExitCode.stepFailed,
} as const satisfies Record<string, ExitCode>;
export type ErrorCode = keyof typeof ErrorCodes;

/** Where a code is explained: `docs/errors.md#<code in lower case, dashes>` (the anchor of its row). */
export function errorDoc(code: string): string {
  return `docs/errors.md#${code.toLowerCase().replaceAll('_', '-')}`;
}

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
