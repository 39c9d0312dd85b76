/**
 * IAM and KMS policy documents: parsing what AWS returns (IAM answers URL-encoded JSON, KMS plain JSON), a
 * canonical form (IAM collapses one-element arrays to strings and may reorder), and a precise difference so
 * `check` can say which part of which policy drifted.
 */
import { PlatctlError } from '../errors.js';

/** One policy statement, as platctl writes them. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** A policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Id?: string;
  Statement: PolicyStatement[];
}

/** Parses a policy as returned by IAM (URL-encoded JSON) or KMS/moto (plain JSON). */
export function parsePolicy(doc: string): unknown {
  const text = doc.trimStart().startsWith('{') ? doc : decodeURIComponent(doc);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PlatctlError('AWS_API', `AWS returned a policy document that is not JSON: ${text.slice(0, 80)}`, {
      cause: err,
    });
  }
}

const listKeys = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);
const asSortedList = (v: unknown): unknown =>
  Array.isArray(v) ? [...new Set(v.map(String))].sort() : typeof v === 'object' && v !== null ? v : [String(v)];

const sortKeys = (o: Record<string, unknown>, map: (k: string, v: unknown) => unknown): Record<string, unknown> =>
  Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, map(k, o[k])]),
  );

function normalizeStatement(s: Record<string, unknown>): Record<string, unknown> {
  return sortKeys(s, (k, v) => {
    if (listKeys.has(k)) return asSortedList(v);
    if ((k === 'Principal' || k === 'NotPrincipal') && typeof v === 'object' && v !== null)
      return sortKeys(v as Record<string, unknown>, (_, p) => asSortedList(p));
    if (k === 'Condition' && typeof v === 'object' && v !== null)
      return sortKeys(v as Record<string, unknown>, (_, block) =>
        sortKeys(block as Record<string, unknown>, (_, c) => asSortedList(c)),
      );
    return v;
  });
}

/**
 * The canonical form of a policy: statements as an array sorted by content, list-valued fields as sorted,
 * de-duplicated string arrays, condition values as strings, object keys sorted. Two documents IAM treats the
 * same compare equal as JSON.
 */
export function normalizePolicy(doc: unknown): Record<string, unknown> {
  const d = (typeof doc === 'string' ? parsePolicy(doc) : doc) as Record<string, unknown>;
  const raw = d.Statement;
  const statements = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as Record<string, unknown>[];
  const norm = statements.map(normalizeStatement);
  norm.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return sortKeys({ ...d, Version: d.Version ?? '2008-10-17', Statement: norm }, (_, v) => v);
}

/** True when two policies (documents, or strings as AWS returns them) are equivalent. */
export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalizePolicy(a)) === JSON.stringify(normalizePolicy(b));
}

const label = (s: Record<string, unknown>, i: number) => (typeof s.Sid === 'string' ? s.Sid : `#${i + 1}`);

function diffValue(path: string, want: unknown, got: unknown, out: string[]): void {
  if (JSON.stringify(want) === JSON.stringify(got)) return;
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(want) && isObj(got)) {
    const w = want as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(w), ...Object.keys(g)])].sort())
      diffValue(`${path}.${k}`, w[k], g[k], out);
    return;
  }
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  out.push(`${path.slice(1)}: want ${show(want)}, found ${show(got)}`);
}

/**
 * Lists how `found` differs from `want`, e.g. `statement AssumeFromServiceAccount Condition.StringEquals.…:sub:
 * want ["system:serviceaccount:vault:vault"], found ["system:serviceaccount:vault:evil"]`. Empty when equivalent.
 */
export function describePolicyDiff(want: unknown, found: unknown): string[] {
  const w = (normalizePolicy(want).Statement ?? []) as Record<string, unknown>[];
  const f = (normalizePolicy(found).Statement ?? []) as Record<string, unknown>[];
  const out: string[] = [];
  const byLabel = new Map(f.map((s, i) => [label(s, i), s]));
  w.forEach((s, i) => {
    const other = byLabel.get(label(s, i));
    byLabel.delete(label(s, i));
    if (!other) out.push(`statement ${label(s, i)} missing`);
    else {
      const parts: string[] = [];
      diffValue('', s, other, parts);
      for (const p of parts) out.push(`statement ${label(s, i)} ${p}`);
    }
  });
  for (const extra of byLabel.keys()) out.push(`unexpected statement ${extra}`);
  return out;
}
