/**
 * "Make this release look like this": compare a deployed release (status, chart version, user values) with
 * what platctl wants, and run `helm upgrade --install` only when they differ. Used by the istio and vault
 * steps for their deep checks and applies.
 */
import type { Logger } from '../log.js';
import { type Helm, type HelmReleaseInfo, settlePending } from './helm.js';
import { type ChartSource, expectedChartVersion, splitChartLabel } from './helm-chart.js';

/** A release as platctl wants it. */
export interface ReleaseSpec {
  release: string;
  namespace: string;
  chart: ChartSource;
  values: Record<string, unknown>;
}

/** How a deployed release compares with its spec. */
export interface ReleaseDiff {
  spec: ReleaseSpec;
  state: 'absent' | 'drift' | 'ok';
  /** Human lines: "chart 1.30.3 → 1.30.4", "values differ at revisionTags". */
  reasons: string[];
}

const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
};

/** The dotted paths at which two value trees differ (at most `limit`), e.g. ["server.ha.replicas"]. */
export function valuesDiff(want: unknown, have: unknown, limit = 5, at = ''): string[] {
  const same = JSON.stringify(canonical(want)) === JSON.stringify(canonical(have));
  if (same) return [];
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(want) || !isObj(have)) return [at || '(root)'];
  const w = want as Record<string, unknown>;
  const h = have as Record<string, unknown>;
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(w), ...Object.keys(h)])].sort()) {
    if (out.length >= limit) break;
    out.push(...valuesDiff(w[k], h[k], limit - out.length, at ? `${at}.${k}` : k));
  }
  return out;
}

/** Compares one release, given its `helm list` row (or none) and a way to read its values. */
export async function diffRelease(
  helm: Helm,
  spec: ReleaseSpec,
  row: HelmReleaseInfo | undefined,
): Promise<ReleaseDiff> {
  if (!row) return { spec, state: 'absent', reasons: [`+ helm release ${spec.namespace}/${spec.release}`] };
  const reasons: string[] = [];
  const name = `${spec.namespace}/${spec.release}`;
  if (row.status !== 'deployed') reasons.push(`~ ${name} is ${row.status}`);
  const want = expectedChartVersion(spec.chart);
  const have = splitChartLabel(row.chart).version;
  if (want && have !== want) reasons.push(`~ ${name} chart ${have} → ${want}`);
  const values = (await helm.getValues(spec.release, spec.namespace)) ?? {};
  const paths = valuesDiff(spec.values, values);
  if (paths.length > 0) reasons.push(`~ ${name} values differ at ${paths.join(', ')}`);
  return { spec, state: reasons.length > 0 ? 'drift' : 'ok', reasons };
}

/** Compares several releases with ONE `helm list` plus one `helm get values` per existing release. */
export async function diffReleases(helm: Helm, specs: readonly ReleaseSpec[]): Promise<ReleaseDiff[]> {
  const names = specs.map((s) => s.release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const rows = await helm.list({ filter: `^(${names.join('|')})$` });
  const find = (s: ReleaseSpec) => rows.find((r) => r.name === s.release && r.namespace === s.namespace);
  const out: ReleaseDiff[] = [];
  for (const spec of specs) out.push(await diffRelease(helm, spec, find(spec)));
  return out;
}

/**
 * Installs or upgrades a release unless it already matches. A release left pending by a killed run is
 * settled first. Returns what happened.
 */
export async function ensureRelease(
  helm: Helm,
  spec: ReleaseSpec,
  log: Logger,
): Promise<'installed' | 'upgraded' | 'unchanged'> {
  const name = `${spec.namespace}/${spec.release}`;
  const settled = await settlePending(helm, spec.release, spec.namespace);
  if (settled) log.warning(`helm release ${name} was left pending by an interrupted run: ${settled}`);
  const rows = await helm.list({ namespace: spec.namespace, filter: `^${spec.release.replace(/[.]/g, '\\.')}$` });
  const diff = await diffRelease(
    helm,
    spec,
    rows.find((r) => r.name === spec.release),
  );
  if (diff.state === 'ok') return 'unchanged';
  log.action(diff.state === 'absent' ? `installing helm release ${name}` : `upgrading ${diff.reasons.join('; ')}`);
  await helm.upgradeInstall(spec);
  log.success(`helm release ${name} ${diff.state === 'absent' ? 'installed' : 'upgraded'}`);
  return diff.state === 'absent' ? 'installed' : 'upgraded';
}
