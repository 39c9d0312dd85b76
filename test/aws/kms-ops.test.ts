/** KMS naming, key policy and deletion window, without AWS. */
import { describe, expect, it } from 'vitest';
import { DELETION_WINDOW_ENV, deletionWindowDays, keyAlias, keyPolicy } from '../../src/aws/kms-ops.js';
import { validateConfig } from '../../src/config/load.js';

const config = (extra: Record<string, unknown> = {}) => {
  const c = validateConfig(
    {
      clusters: [
        {
          name: 'demo',
          aws: { accountId: '123456789012', region: 'us-east-1' },
          kubernetes: { version: '1.34' },
          fleet: { url: 'ssh://git@example.com/fleet.git' },
          ...extra,
        },
      ],
    },
    'kms test',
  ).clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
};

describe('kms naming and policy', () => {
  it('aliases are alias/platctl/<cluster>/<purpose>, vault.kmsAlias overriding the vault one', () => {
    expect(keyAlias(config(), 'vault')).toBe('alias/platctl/demo/vault');
    expect(keyAlias(config(), 'ebs')).toBe('alias/platctl/demo/ebs');
    const custom = config({ vault: { kmsAlias: 'alias/team/unseal' } });
    expect(keyAlias(custom, 'vault')).toBe('alias/team/unseal');
    expect(keyAlias(custom, 'ebs')).toBe('alias/platctl/demo/ebs');
  });

  it('the key policy lets the account administer the key and, when known, the vault role use it', () => {
    const base = keyPolicy({ partition: 'aws', accountId: '1' });
    expect(base.Statement).toEqual([
      {
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::1:root' },
        Action: 'kms:*',
        Resource: '*',
      },
    ]);
    const withVault = keyPolicy({ partition: 'aws', accountId: '1', useBy: 'arn:aws:iam::1:role/v' });
    expect(withVault.Statement[1]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::1:role/v' },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
    });
  });
});

describe('deletion window', () => {
  it('defaults to 30 days and takes the environment, then kms.deletionWindowDays', () => {
    expect(deletionWindowDays(config(), {})).toBe(30);
    expect(deletionWindowDays(config(), { [DELETION_WINDOW_ENV]: '7' })).toBe(7);
    const withField = Object.assign(config(), { kms: { deletionWindowDays: 10 } });
    expect(deletionWindowDays(withField, {})).toBe(10);
    expect(deletionWindowDays(withField, { [DELETION_WINDOW_ENV]: '12' })).toBe(12);
  });

  it('refuses what AWS would refuse (below 7, above 30, fractions)', () => {
    for (const bad of ['6', '31', '7.5', 'week'])
      expect(() => deletionWindowDays(config(), { [DELETION_WINDOW_ENV]: bad }), bad).toThrow(/7 to 30/);
  });
});
