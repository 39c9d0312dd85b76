/**
 * The istio step's checks. Cheap (ctx.deep false): ONE read, the first tag's webhook (or, with no tags, the
 * istiod release's storage Secret). Deep: every release's status, chart version and values (`helm get values`),
 * the tag webhooks, the namespace labels, and the Flux trailing-dot fix.
 */
import type { CheckResult, StepContext } from '../step.js';
import { helmFor } from '../tools/helm.js';
import { expectedChartVersion, splitChartLabel } from '../tools/helm-chart.js';
import { diffReleases, valuesDiff } from '../tools/helm-ensure.js';
import { readDeployedRelease } from '../tools/helm-release.js';
import { fluxFixChange } from './flux-fix.js';
import { namespaceLabelChanges } from './namespaces.js';
import { configRevision, ISTIO_NAMESPACE, injectionLabel, istiodRelease } from './revision.js';
import { readTag, readTags, tagWebhookName } from './tags.js';
import { istiodSpec, istioSpecs, nativeSidecars } from './values.js';

/** Outputs the step records. */
export const istioOutputs = (ctx: Pick<StepContext, 'cluster'>) => ({
  revision: configRevision(ctx.cluster),
  tags: [...ctx.cluster.istio.tags],
});

/** One read: is the configured revision installed and serving the first tag? */
export async function cheapCheck(ctx: StepContext): Promise<CheckResult> {
  const c = ctx.cluster;
  const rev = configRevision(c);
  const spec = istiodSpec(c, rev, c.istio.version, c.istio.tags);
  const wantChart = expectedChartVersion(spec.chart);
  const kube = await ctx.kube();
  const tag = c.istio.tags[0];
  if (tag) {
    const t = await readTag(kube, tag);
    if (!t) return { status: 'absent', detail: `tag webhook ${tagWebhookName(tag)} does not exist` };
    if (t.revision !== rev) {
      return { status: 'drift', detail: `tag ${tag} points at revision ${t.revision}, platform.yaml asks for ${rev}` };
    }
    const chart = splitChartLabel(t.chart ?? '').version;
    if (chart !== wantChart) {
      return {
        status: 'drift',
        detail: `${spec.release} runs chart ${chart || '?'}, platform.yaml asks for ${wantChart}`,
      };
    }
    return { status: 'up-to-date', detail: `istiod ${rev} serves tag ${tag}: up to date`, outputs: istioOutputs(ctx) };
  }
  const r = await readDeployedRelease(kube, spec.release, ISTIO_NAMESPACE);
  if (!r) return { status: 'absent', detail: `helm release ${ISTIO_NAMESPACE}/${spec.release} is not deployed` };
  const diff = valuesDiff(spec.values, r.values);
  const why = [
    ...(r.chartVersion !== wantChart ? [`chart ${r.chartVersion} → ${wantChart}`] : []),
    ...(diff.length > 0 ? [`values differ at ${diff.join(', ')}`] : []),
  ];
  if (why.length > 0) return { status: 'drift', detail: `${spec.release}: ${why.join('; ')}` };
  return { status: 'up-to-date', detail: `istiod ${rev}: up to date`, outputs: istioOutputs(ctx) };
}

/** Other istiod revisions installed beside the configured one (an `istio upgrade` in progress, or config behind). */
export async function otherRevisions(ctx: StepContext): Promise<{ others: string[]; mineInstalled: boolean }> {
  const rows = await helmFor(ctx).list({ namespace: ISTIO_NAMESPACE, filter: '^istiod-' });
  const mine = istiodRelease(configRevision(ctx.cluster));
  return {
    others: rows.map((r) => r.name).filter((n) => n !== mine),
    mineInstalled: rows.some((r) => r.name === mine),
  };
}

/** Everything: releases, chart versions, values, tags, namespace labels, the Flux fix. */
export async function deepCheck(ctx: StepContext): Promise<CheckResult> {
  const c = ctx.cluster;
  const rev = configRevision(c);
  const helm = helmFor(ctx);
  const kube = await ctx.kube();
  const specs = istioSpecs(c);
  const diffs = await diffReleases(helm, specs);
  const changes = diffs.flatMap((d) => d.reasons);
  if (diffs.some((d) => d.state === 'absent')) {
    changes.push(
      `  istiod values: revision=${rev} revisionTags=[${c.istio.tags.join(',')}] ` +
        `hub=${String((specs[1]?.values.global as { hub?: string } | undefined)?.hub)} ` +
        `nativeSidecars=${nativeSidecars(c)} holdApplicationUntilProxyStarts=true`,
    );
  }
  const tags = await readTags(kube);
  for (const tag of c.istio.tags) {
    const t = tags.get(tag);
    if (!t) changes.push(`+ tag webhook ${tagWebhookName(tag)} → ${rev}`);
    else if (t.revision !== rev) changes.push(`~ tag ${tag} points at ${t.revision}, platform.yaml asks for ${rev}`);
    else if (t.kept) changes.push(`~ tag ${tag}: clear the keep mark left by an interrupted move`);
  }
  changes.push(...(await namespaceLabelChanges(kube, c.istio.namespaces, injectionLabel(c))));
  const fix = await fluxFixChange(kube);
  if (fix) changes.push(fix);
  const { others, mineInstalled } = await otherRevisions(ctx);
  if (others.length > 0) {
    const detail = mineInstalled
      ? `an Istio upgrade is in progress: ${others.join(', ')} installed beside ${istiodRelease(rev)}`
      : `platform.yaml asks for ${istiodRelease(rev)}, but ${others.join(', ')} is installed (set istio.version after an upgrade)`;
    return { status: 'drift', detail, changes };
  }
  if (diffs.every((d) => d.state === 'absent')) return { status: 'absent', detail: 'Istio is not installed', changes };
  if (changes.length > 0) {
    const n = changes.filter((l) => !l.startsWith(' ')).length;
    return { status: 'drift', detail: `${n} change${n === 1 ? '' : 's'} to Istio ${rev}`, changes };
  }
  const chart = specs[1] ? expectedChartVersion(specs[1].chart) : '?';
  return {
    status: 'up-to-date',
    detail: `istiod ${rev} (chart ${chart}), tags ${c.istio.tags.join(', ') || 'none'}: up to date`,
    outputs: istioOutputs(ctx),
  };
}
