/**
 * Running an external tool and translating its failure into a PlatctlError a human can act on. Shared by the
 * tool wrappers (terraform/tofu here, helm later): each wrapper supplies translators that recognise its own
 * failure modes (a held lock, missing credentials, a broken chart…); anything unrecognised becomes a
 * TOOL_FAILED error naming what was being done and the tool's last stderr lines.
 *
 *   const r = await runTool(exec, 'helm', ['upgrade', …], {
 *     what: 'helm upgrade vault',
 *     translate: [helmLockTranslator],
 *   });
 */
import type { Exec, ExecOptions, ExecResult } from '../clients/exec.js';
import { isPlatctlError, PlatctlError } from '../errors.js';

/** A finished run of a tool that exited with a non-ok code. */
export interface ToolFailure {
  tool: string;
  args: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What was being done, for messages ("terraform plan in ~/.platctl/demo/terraform"). */
  what: string;
}

/**
 * Recognises one kind of failure. Returns the error to throw, or undefined to let the next translator try.
 * Translators must be pure and cheap: they only look at the captured output.
 */
export type FailureTranslator = (failure: ToolFailure) => PlatctlError | undefined;

/** Options for {@link runTool}: the usual exec options plus what is being done and how to translate failures. */
export interface RunToolOptions extends ExecOptions {
  /** One line naming the work, used in the fallback message. */
  what: string;
  /** Tried in order on failure; the first that returns an error wins. */
  translate?: readonly FailureTranslator[];
  /** Hint for the fallback TOOL_FAILED error. */
  hint?: string;
}

/** The captured result exec attaches to its TOOL_FAILED errors, if any. */
export function failedResult(err: unknown): ExecResult | undefined {
  if (!isPlatctlError(err) || err.code !== 'TOOL_FAILED') return undefined;
  const result = (err as { result?: ExecResult }).result;
  return result && typeof result.exitCode === 'number' ? result : undefined;
}

/** The last `n` non-empty lines of a tool's output, joined with " | " (for one-line messages). */
export function lastLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

/** Applies translators to a failure; falls back to a TOOL_FAILED error naming the work and the tool's output. */
export function translateFailure(
  failure: ToolFailure,
  translators: readonly FailureTranslator[] = [],
  hint?: string,
): PlatctlError {
  for (const t of translators) {
    const err = t(failure);
    if (err) return err;
  }
  const tail = lastLines(failure.stderr) || lastLines(failure.stdout) || '(no output)';
  return new PlatctlError('TOOL_FAILED', `${failure.what} failed (exit ${failure.exitCode}): ${tail}`, {
    hint: hint ?? 'run with --debug for the full output',
  });
}

/**
 * Runs a tool through {@link Exec}. On a non-ok exit code the failure goes through the translators; TOOL_MISSING
 * and other PlatctlErrors pass through unchanged.
 */
export async function runTool(
  exec: Exec,
  file: string,
  args: readonly string[],
  opts: RunToolOptions,
): Promise<ExecResult> {
  const { what, translate, hint, ...execOpts } = opts;
  try {
    return await exec.run(file, args, execOpts);
  } catch (err) {
    const result = failedResult(err);
    if (!result) throw err;
    const failure: ToolFailure = { tool: file, args, what, ...result };
    const translated = translateFailure(failure, translate, hint);
    throw Object.assign(translated, { cause: err, result });
  }
}
