/**
 * Teardown's work outside the steps, as phases the runner records (src/runner/phase.ts):
 * - before the destroys: the cloud load balancers Kubernetes made (src/teardown/prepare.ts), while the cluster
 *   and its controllers still run; then the tenants (their Flux objects and namespaces need Flux's CRDs);
 * - after them: the orphan report, the proof that nothing tagged for the cluster is left.
 * Each is idempotent: a teardown killed inside one (the load-balancer wait, say) runs it again and goes on.
 */
import { PlatctlError } from '../errors.js';
import type { Phase } from '../runner/phase.js';
import { planLive, runPlan } from '../tenants/live.js';
import { tenantRecords } from '../tenants/records.js';
import { orphanReport } from './orphans.js';
import { PREPARE_PHASE, type PrepareOptions, prepareTeardown } from './prepare.js';

export { PREPARE_PHASE };
/** Phase ids, as state and history name them. */
export const TENANTS_PHASE = 'teardown-tenants';
export const ORPHANS_PHASE = 'teardown-orphans';

/** Step states in which what the step made may still be there (the cluster, its controllers, a deploy key…). */
const STANDING = new Set(['done', 'failed', 'running', 'destroying']);

/** True when a step in this state may still have something standing. */
export const isStanding = (status: string | undefined): boolean => STANDING.has(status ?? 'pending');

/** Load balancers and other cloud resources Kubernetes made go first (docs/commands/teardown-safety.md). */
export function preparePhase(opts: PrepareOptions = {}): Phase {
  return {
    id: PREPARE_PHASE,
    title: 'Cloud load balancers of the cluster',
    when: 'before',
    skip: ({ state }) => (isStanding(state.steps.cluster?.status) ? undefined : 'the cluster step is not standing'),
    async run(ctx) {
      const report = await prepareTeardown({ ...ctx, progress: (m) => ctx.progress(m) }, opts);
      const lbs = report.loadBalancers.length;
      const detail = ctx.dryRun
        ? `would delete ${report.deleted.length} Service/Ingress object(s); ${lbs} load balancer(s) now`
        : `${report.deleted.length} Service/Ingress object(s) deleted, ${lbs} load balancer(s) gone`;
      return { detail, data: report };
    },
  };
}

/**
 * Tenants go before the steps, deleted Flux objects first and waited for; then their records leave state.
 * Their fleet files stay: the fleet repo is the record of intent.
 */
export const tenantsPhase: Phase = {
  id: TENANTS_PHASE,
  title: 'Tenants',
  when: 'before',
  skip: ({ state }) => (Object.keys(tenantRecords(state)).length === 0 ? 'no tenants' : undefined),
  async run(ctx) {
    const names = Object.keys(tenantRecords(ctx.state()));
    if (ctx.dryRun) return { detail: `would remove tenants ${names.join(', ')}` };
    ctx.log.action(`removing tenants ${names.join(', ')} (Flux objects first, then namespaces)`);
    const kube = await ctx.kube();
    await runPlan(kube, await planLive(kube, names, []), { progress: ctx.progress });
    await ctx.updateState((s) => {
      delete s.records.tenants;
    });
    return { detail: `tenants ${names.join(', ')} removed` };
  },
};

/** After every destroy: nothing tagged platctl.io/cluster=<name> may be left. Fails (listing them) otherwise. */
export const orphansPhase: Phase = {
  id: ORPHANS_PHASE,
  title: 'Orphan report',
  when: 'after',
  skip: ({ dryRun }) => (dryRun ? 'runs after the destroys' : undefined),
  async run(ctx) {
    const name = ctx.cluster.name;
    const orphans = await orphanReport(ctx.aws, name);
    if (orphans.length === 0) return { detail: `nothing tagged platctl.io/cluster=${name} is left`, data: orphans };
    const failure = new PlatctlError(
      'ORPHANS_LEFT',
      `teardown of ${name} left ${orphans.length} AWS resource(s) tagged platctl.io/cluster=${name}: ${orphans.map((o) => o.arn).join(', ')}`,
      { hint: 'delete them by hand (the tagging API can lag behind a deletion: run teardown again to re-check)' },
    );
    return { detail: failure.message, data: orphans, failure };
  },
};

/** Every teardown phase, in the order they run around the steps. */
export function teardownPhases(prepare: PrepareOptions = {}): Phase[] {
  return [preparePhase(prepare), tenantsPhase, orphansPhase];
}
