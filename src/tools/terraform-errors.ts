/**
 * Terraform/OpenTofu failures translated into messages with a fix: a held state lock (who holds it, and the
 * force-unlock command), missing cloud credentials, and module errors (the diagnostic's summary, file and
 * line). Diagnostics come from `-json` output when the command had it, else from the human-readable text.
 */
import path from 'node:path';
import { PlatctlError } from '../errors.js';
import type { FailureTranslator, ToolFailure } from './tool-errors.js';

/** One terraform diagnostic, as in the `-json` output (`type: "diagnostic"`) and `validate -json`. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number; column?: number } };
}

const boxChars = /^[\s│╷╵]*/;

/** Diagnostics from `-json` lines (machine-readable UI) in a command's stdout. */
export function jsonDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = JSON.parse(line) as { type?: string; diagnostic?: Diagnostic; diagnostics?: Diagnostic[] };
      if (msg.type === 'diagnostic' && msg.diagnostic) out.push(msg.diagnostic);
      if (Array.isArray(msg.diagnostics)) out.push(...msg.diagnostics);
    } catch {
      // not a JSON line (a provider's stray output): ignore it
    }
  }
  return out;
}

/** Diagnostics from the human-readable output ("Error: …" blocks, with or without the box drawing). */
export function textDiagnostics(text: string): Diagnostic[] {
  const lines = text.split('\n').map((l) => l.replace(boxChars, ''));
  const out: Diagnostic[] = [];
  let current: Diagnostic | undefined;
  const details: string[] = [];
  const flush = () => {
    if (current) out.push({ ...current, detail: details.join('\n').trim() || undefined });
    details.length = 0;
  };
  for (const line of lines) {
    const head = /^(Error|Warning): (.+)$/.exec(line);
    if (head) {
      flush();
      current = { severity: head[1] === 'Error' ? 'error' : 'warning', summary: head[2]!.trim() };
      continue;
    }
    if (!current) continue;
    const at = /^on (.+?) line (\d+)/.exec(line.trim());
    if (at && !current.range) current.range = { filename: at[1]!, start: { line: Number(at[2]) } };
    else details.push(line);
  }
  flush();
  return out;
}

/** Every error diagnostic in a failure: JSON first, text as the fallback. */
export function errorDiagnostics(f: Pick<ToolFailure, 'stdout' | 'stderr'>): Diagnostic[] {
  const json = [...jsonDiagnostics(f.stdout), ...jsonDiagnostics(f.stderr)];
  const all = json.length > 0 ? json : [...textDiagnostics(f.stderr), ...textDiagnostics(f.stdout)];
  return all.filter((d) => d.severity === 'error');
}

/** The lock holder from a lock error's "Lock Info" block. */
export interface LockInfo {
  id?: string;
  who?: string;
  operation?: string;
  created?: string;
  path?: string;
}

/** Parses the "Lock Info:" block terraform prints when it cannot acquire the state lock. */
export function parseLockInfo(text: string): LockInfo | undefined {
  if (!/Error acquiring the state lock/i.test(text)) return undefined;
  const field = (name: string) => new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim() || undefined;
  return {
    id: field('ID'),
    who: field('Who'),
    operation: field('Operation'),
    created: field('Created'),
    path: field('Path'),
  };
}

/** Context the terraform translators need: the binary (for the hint), the working dir and the module source. */
export interface TerraformErrorContext {
  binary: string;
  workdir: string;
  moduleDir: string;
}

/** A held state lock → LOCK_HELD (exit 3) naming who holds it, with the force-unlock command. */
export function lockTranslator(c: TerraformErrorContext): FailureTranslator {
  return (f) => {
    const diag = errorDiagnostics(f).find((d) => /state lock/i.test(d.summary));
    const text = diag ? `${diag.summary}\n${diag.detail ?? ''}` : `${f.stderr}\n${f.stdout}`;
    const info = parseLockInfo(text);
    if (!info) return undefined;
    const who = info.who ?? 'another process';
    const opName = info.operation?.replace(/^OperationType/, '').toLowerCase();
    const op = opName && opName !== 'invalid' ? ` (${opName}, ` : ' (';
    const since = info.created ? `since ${info.created})` : 'since an unknown time)';
    return new PlatctlError(
      'LOCK_HELD',
      `${f.what}: the terraform state is locked by ${who}${op}${since}${info.id ? `, lock ID ${info.id}` : ''}`,
      {
        hint: info.id
          ? `wait for that run to finish; if it died, release the lock with: ${c.binary} -chdir=${c.workdir} force-unlock ${info.id}`
          : `wait for that run to finish; if it died, release the lock with \`${c.binary} force-unlock <ID>\` in ${c.workdir}`,
      },
    );
  };
}

const credentialPatterns = [
  /no valid credential sources/i,
  /NoCredentialProviders/,
  /failed to refresh cached credentials/i,
  /security token included in the request is (invalid|expired)/i,
  /\b(ExpiredToken|InvalidClientTokenId|UnrecognizedClientException)\b/,
  /SSO session .* (expired|invalid)/i,
];

/** Missing or expired cloud credentials (backend or provider) → AWS_CREDENTIALS. */
export function credentialsTranslator(): FailureTranslator {
  return (f) => {
    const diags = errorDiagnostics(f);
    const texts = diags.length > 0 ? diags.map((d) => `${d.summary}\n${d.detail ?? ''}`) : [f.stderr];
    const hit = texts.find((t) => credentialPatterns.some((p) => p.test(t)));
    if (!hit) return undefined;
    const first = hit.split('\n').find((l) => l.trim()) ?? 'no usable credentials';
    return new PlatctlError('AWS_CREDENTIALS', `${f.what}: no usable AWS credentials (${first.trim()})`, {
      hint: 'configure credentials (AWS_PROFILE, `aws sso login`, or environment variables), then run `platctl doctor`',
    });
  };
}

/** An error diagnostic pointing into the module → STEP_FAILED naming the summary and the module's file and line. */
export function moduleErrorTranslator(c: TerraformErrorContext): FailureTranslator {
  return (f) => {
    const diags = errorDiagnostics(f);
    const located = diags.find((d) => d.range?.filename);
    const diag = located ?? diags[0];
    if (!diag) return undefined;
    const where = diag.range
      ? ` at ${path.join(c.moduleDir, diag.range.filename.replace(/^\.\//, ''))}:${diag.range.start.line}`
      : '';
    const detail = diag.detail
      ?.split('\n')
      .find((l) => l.trim())
      ?.trim();
    const more = diags.length > 1 ? ` (+${diags.length - 1} more)` : '';
    return new PlatctlError('TERRAFORM_FAILED', `${f.what}: ${diag.summary}${where}${more}`, {
      hint: located
        ? `${detail ? `${detail} — ` : ''}fix the module (${c.moduleDir}) and run again`
        : (detail ?? 'run with --debug for the full terraform output'),
    });
  };
}

/** The translators for every terraform command, most specific first. */
export function terraformTranslators(c: TerraformErrorContext): FailureTranslator[] {
  return [lockTranslator(c), credentialsTranslator(), moduleErrorTranslator(c)];
}
