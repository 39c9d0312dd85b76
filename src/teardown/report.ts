/** Human lines for teardown's preparation and its final orphan report (stdout; JSON output uses the objects). */
import type { Orphan } from './orphans.js';
import type { PrepareReport } from './prepare.js';

const list = (title: string, items: string[]) => (items.length ? [`  ${title}:`, ...items.map((i) => `    ${i}`)] : []);

/** Summary of {@link PrepareReport}: what was suspended, deleted and waited for, and what is left over. */
export function formatPrepare(r: PrepareReport): string[] {
  const [s, d, l] = [r.suspended.length, r.deleted.length, r.loadBalancers.length];
  const head = r.dryRun
    ? `before destroy (dry run): would suspend ${s} Flux object(s), delete ${d} Service/Ingress object(s) and wait for ${l} load balancer(s)`
    : `before destroy: suspended ${s} Flux object(s), deleted ${d} Service/Ingress object(s), ${l} load balancer(s) gone`;
  return [
    head,
    ...list(r.dryRun ? 'would suspend' : 'suspended', r.suspended),
    ...list('already suspended', r.alreadySuspended),
    ...list(r.dryRun ? 'would delete' : 'deleted', r.deleted),
    ...list(
      r.dryRun ? 'load balancers now' : 'load balancers waited for',
      r.loadBalancers.map((lb) => `${lb.name} ${lb.arn}`),
    ),
    ...list(
      'left over (delete by hand)',
      r.leftovers.map((l) => `${l.type} ${l.id}${l.name ? ` ${l.name}` : ''} (tagged ${l.tag})`),
    ),
  ];
}

/** The orphan report: one line per resource still tagged for the cluster, or the all-clear. */
export function formatOrphans(cluster: string, orphans: readonly Orphan[]): string[] {
  if (orphans.length === 0) return [`orphan report: nothing tagged platctl.io/cluster=${cluster} is left`];
  return [
    `orphan report: ${orphans.length} resource(s) still tagged platctl.io/cluster=${cluster}:`,
    ...orphans.map((o) => `  ${o.type} ${o.arn}`),
  ];
}
