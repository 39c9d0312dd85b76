/** add-tenant's human summary (pure): what a team lead reads after adding tenants. */
import { describe, expect, it } from 'vitest';
import { reportLines } from '../../src/commands/add-tenant.js';
import type { TenantReport } from '../../src/tenants/tenants.js';

const report = (over: Partial<TenantReport>): TenantReport => ({
  cluster: 'demo',
  tenants: ['team-a'],
  dryRun: false,
  fleet: { commit: 'abc1234', committed: true, changed: ['tenants/team-a/sync.yaml'] },
  gateway: { name: 'platform-gateway', changed: false },
  keys: [],
  stateWrites: 1,
  ...over,
});
const key = {
  tenant: 'team-a',
  secret: 'apps-a/team-a-deploy-key',
  repo: 'ssh://git@git.example.com/team-a/apps.git',
  publicKey: 'ssh-ed25519 AAAAC3Nza platctl-demo-tenant-team-a',
  created: true,
};

describe('add-tenant reportLines', () => {
  it('prints a new key to add, and how to skip Flux backing off while it is missing', () => {
    const lines = reportLines(report({ keys: [key] }));
    expect(lines).toContain(`  deploy key team-a (add it to ${key.repo}, read-only): ${key.publicKey}`);
    expect(lines.at(-1)).toMatch(/up to 15 min\); once added: flux reconcile source git team-a -n apps-a$/);
  });

  it('says nothing of keys that were already there, or in a dry run', () => {
    expect(reportLines(report({ keys: [{ ...key, created: false }] })).join('\n')).not.toMatch(/deploy key|reconcile/);
    const dry = reportLines(report({ dryRun: true, keys: [key] }));
    expect(dry).toContain('  deploy key team-a: would create Secret apps-a/team-a-deploy-key');
    expect(dry.join('\n')).not.toMatch(/reconcile source/);
  });
});
