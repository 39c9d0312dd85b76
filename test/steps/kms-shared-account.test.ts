/**
 * The kms step in a shared (landing-zone) account, where some keys' policies do not delegate to IAM and every
 * read of them is denied. moto enforces no key policy, so KMS is a fake here. Neither apply nor destroy may
 * stop on such a key; both say how many they skipped, and platctl's own keys are found by alias first.
 */
import { describe, expect, it } from 'vitest';
import { createStepContext } from '../../src/runner/context.js';
import { kmsStep } from '../../steps/kms.js';
import { clusterConfig } from '../helpers/config.js';
import { type FakeKey, fakeKms } from '../helpers/fake-kms.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const account = '123456789012';
const ours = (purpose: string): FakeKey => ({
  tags: { 'platctl.io/cluster': 'demo', 'platctl.io/step': 'kms', 'platctl.io/key': purpose },
  created: 1,
});
/** The landing zone's keys: two of other teams' whose policies shut IAM out, and an AWS managed one. */
const landingZone: Record<string, FakeKey> = {
  'team-a': { tags: {}, denied: true },
  'team-b': { tags: { owner: 'b' }, denied: true },
  'aws-ebs': { tags: {}, denied: true },
  'other-cluster': { tags: { 'platctl.io/cluster': 'other', 'platctl.io/key': 'vault' } },
};
const landingAliases = { 'alias/aws/ebs': 'aws-ebs', 'alias/platctl/other/vault': 'other-cluster' };

function context(aws: ReturnType<typeof fakeKms>['aws']) {
  const log = memoryLogger();
  const ctx = createStepContext({
    cluster: clusterConfig('demo'),
    log,
    clients: { aws },
    yes: true,
    kube: () => Promise.reject(new Error('no cluster in this test')),
  });
  return { ctx, lines: log.lines };
}

describe('kms step in a shared account', () => {
  it('apply adopts the alias-less key, creates the other, skips the unreadable keys and says how many', async () => {
    const fake = fakeKms({ account, keys: { ...landingZone, orphan: ours('vault') }, aliases: landingAliases });
    const { ctx, lines } = context(fake.aws);
    const out = await kmsStep.apply(ctx);
    expect(out?.vaultKeyId).toBe('orphan');
    expect(fake.aliases.get('alias/platctl/demo/vault')).toBe('orphan');
    expect(fake.aliases.get('alias/platctl/demo/ebs')).toMatch(/^new-/);
    const warnings = lines.filter((l) => l.startsWith('⚠'));
    expect(warnings.join('\n')).toContain('skipped 2 KMS keys');
    // One pass over the region's keys for both purposes; AWS managed and other clusters' keys are never read.
    expect(fake.calls.filter((c) => c === 'ListKeys')).toHaveLength(1);
    expect(fake.calls).not.toContain('ListResourceTags aws-ebs');
    expect(fake.calls).not.toContain('ListResourceTags other-cluster');
  });

  it('destroy retires its keys and the alias-less one, and does not stop on unreadable keys', async () => {
    const fake = fakeKms({
      account,
      keys: { ...landingZone, v: ours('vault'), e: ours('ebs'), leftover: ours('ebs') },
      aliases: { ...landingAliases, 'alias/platctl/demo/vault': 'v', 'alias/platctl/demo/ebs': 'e' },
    });
    const { ctx, lines } = context(fake.aws);
    await kmsStep.destroy(ctx);
    for (const id of ['v', 'e', 'leftover']) expect(fake.keys.get(id)?.state, id).toBe('PendingDeletion');
    expect(fake.keys.get('other-cluster')?.state).toBeUndefined();
    expect([...fake.aliases.keys()].filter((a) => a.startsWith('alias/platctl/demo/'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('⚠')).join('\n')).toContain('skipped 2 KMS keys');
    // Found by alias first: the keys behind alias/platctl/demo/* are read before anyone else's.
    const tagReads = fake.calls.filter((c) => c.startsWith('ListResourceTags '));
    // (The vault alias is already gone when the search runs, so the ebs key is the one still behind an alias.)
    expect(tagReads[0]).toBe('ListResourceTags e');
  });

  it('says nothing about skipped keys when every key is readable', async () => {
    const fake = fakeKms({ account, keys: { mine: ours('vault') }, aliases: {} });
    const { ctx, lines } = context(fake.aws);
    await kmsStep.apply(ctx);
    expect(lines.join('\n')).not.toContain('skipped');
  });
});
