/** The teardown summary lines: what a person reads on stdout after the preparation and after destroy. */
import { describe, expect, it } from 'vitest';
import type { PrepareReport } from '../../src/teardown/prepare.js';
import { formatOrphans, formatPrepare } from '../../src/teardown/report.js';

const base: PrepareReport = {
  dryRun: false,
  suspended: ['Kustomization flux-system/apps'],
  alreadySuspended: [],
  deleted: ['Service istio-ingress/gw', 'Ingress apps/web'],
  loadBalancers: [
    { arn: 'arn:aws:elasticloadbalancing:r:1:loadbalancer/net/gw/1', name: 'gw', api: 'elbv2', tag: 't' },
  ],
  leftovers: [{ type: 'security-group', id: 'sg-1', name: 'k8s-traffic', tag: 'elbv2.k8s.aws/cluster=demo' }],
  waitedMs: 1000,
};

describe('formatPrepare', () => {
  it('counts and lists what was done, and the leftovers to delete by hand', () => {
    const lines = formatPrepare(base);
    expect(lines[0]).toBe(
      'before destroy: suspended 1 Flux object(s), deleted 2 Service/Ingress object(s), 1 load balancer(s) gone',
    );
    expect(lines).toContain('    Ingress apps/web');
    expect(lines).toContain('  left over (delete by hand):');
    expect(lines).toContain('    security-group sg-1 k8s-traffic (tagged elbv2.k8s.aws/cluster=demo)');
    expect(lines).not.toContain('  already suspended:');
  });

  it('says "would" in a dry run', () => {
    const lines = formatPrepare({ ...base, dryRun: true, leftovers: [] });
    expect(lines[0]).toBe(
      'before destroy (dry run): would suspend 1 Flux object(s), delete 2 Service/Ingress object(s) and wait for 1 load balancer(s)',
    );
    expect(lines).toContain('  would delete:');
    expect(lines).toContain('  load balancers now:');
  });
});

describe('formatOrphans', () => {
  it('gives the all-clear when nothing is left, else one line per resource', () => {
    expect(formatOrphans('demo', [])).toEqual(['orphan report: nothing tagged platctl.io/cluster=demo is left']);
    expect(formatOrphans('demo', [{ arn: 'arn:aws:iam::1:role/x', type: 'iam:role' }])).toEqual([
      'orphan report: 1 resource(s) still tagged platctl.io/cluster=demo:',
      '  iam:role arn:aws:iam::1:role/x',
    ]);
  });
});
