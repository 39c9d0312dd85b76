/**
 * validateConfig: every bad platform.yaml is refused with exit code 2 and a line naming the exact field, the way
 * a user would write it (clusters[0].vault.keyShares). Table-driven: each row breaks one field of a valid base.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { isPlatctlError, type PlatctlError } from '../../src/errors.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';

/** Runs validateConfig and returns the error it must throw. */
function refuse(raw: unknown): PlatctlError {
  try {
    validateConfig(raw, 'platform.yaml');
  } catch (err) {
    if (isPlatctlError(err)) return err;
    throw err;
  }
  throw new Error('validateConfig accepted a bad config');
}

/** The "path: message" lines of a CONFIG_INVALID message. */
const problemLines = (err: Error) =>
  err.message
    .split('\n')
    .slice(1)
    .map((l) => l.trim());

const c0 = (...rest: Array<string | number>) => ['clusters', 0, ...rest];
const long = `a${'b'.repeat(100)}`;

/** [what, field to set (path), value, expected problem line prefix "path: message-start"] */
const cases: Array<[string, Array<string | number>, unknown, string]> = [
  ['typo at the root', ['cluster'], [], 'cluster: unknown key'],
  ['typo in a cluster', c0('vualt'), {}, 'clusters[0].vualt: unknown key'],
  ['typo in vault', c0('vault', 'keyshares'), 3, 'clusters[0].vault.keyshares: unknown key'],
  ['typo in aws', c0('aws', 'tag'), { team: 'x' }, 'clusters[0].aws.tag: unknown key'],
  [
    'typo in backend',
    c0('terraform', 'backend'),
    { type: 'local', cfg: {} },
    'clusters[0].terraform.backend.cfg: unknown key',
  ],
  [
    'typo in a tenant',
    c0('tenants'),
    [{ name: 'team-a', namspaces: ['a'] }],
    'clusters[0].tenants[0].namspaces: unknown key',
  ],
  [
    'typo in a tenant quota',
    c0('tenants'),
    [{ name: 't', quota: { cpu: '1', memory: '1Gi', pods: 3, gpu: 1 } }],
    'clusters[0].tenants[0].quota.gpu: unknown key',
  ],
  ['empty cluster name', c0('name'), '', 'clusters[0].name: must not be empty'],
  ['101-character name', c0('name'), long, 'clusters[0].name: must be at most 100 characters'],
  ['name with leading -', c0('name'), '-demo', 'clusters[0].name: must start with a letter or digit'],
  ['name with a space', c0('name'), 'my demo', 'clusters[0].name: must start with a letter or digit'],
  ['name with a dot', c0('name'), 'my.demo', 'clusters[0].name: must start with a letter or digit'],
  ['region without number', c0('aws', 'region'), 'us-east', 'clusters[0].aws.region: must be an AWS region'],
  ['upper-case region', c0('aws', 'region'), 'US-EAST-1', 'clusters[0].aws.region: must be an AWS region'],
  ['made-up region', c0('aws', 'region'), 'moon-1', 'clusters[0].aws.region: must be an AWS region'],
  [
    'CIDR with host bits',
    c0('terraform', 'vpcCidr'),
    '10.0.0.1/16',
    'clusters[0].terraform.vpcCidr: must be an IPv4 CIDR',
  ],
  [
    'CIDR octet > 255',
    c0('terraform', 'vpcCidr'),
    '300.0.0.0/8',
    'clusters[0].terraform.vpcCidr: must be an IPv4 CIDR',
  ],
  ['CIDR prefix /33', c0('terraform', 'vpcCidr'), '10.0.0.0/33', 'clusters[0].terraform.vpcCidr: must be an IPv4 CIDR'],
  [
    'CIDR without prefix',
    c0('terraform', 'vpcCidr'),
    '10.0.0.0',
    'clusters[0].terraform.vpcCidr: must be an IPv4 CIDR',
  ],
  ['short account id', c0('aws', 'accountId'), '12345', 'clusters[0].aws.accountId: must be a 12-digit AWS account id'],
  ['account id with a letter', c0('aws', 'accountId'), '12345678901a', 'clusters[0].aws.accountId: must be a 12-digit'],
  [
    'PGP keys ≠ keyShares',
    c0('vault'),
    { keyShares: 3, keyThreshold: 2, pgpKeys: ['a.asc', 'b.asc'] },
    'clusters[0].vault.pgpKeys: has 2 keys but keyShares is 3',
  ],
  [
    'threshold > shares',
    c0('vault'),
    { keyShares: 3, keyThreshold: 4 },
    'clusters[0].vault.keyThreshold: must be ≤ keyShares (3)',
  ],
  ['11 key shares', c0('vault'), { keyShares: 11, keyThreshold: 2 }, 'clusters[0].vault.keyShares: must be ≤ 10'],
  ['0 key shares', c0('vault'), { keyShares: 0, keyThreshold: 0 }, 'clusters[0].vault.keyShares: must be ≥ 1'],
  ['kms alias without alias/', c0('vault', 'kmsAlias'), 'vault', 'clusters[0].vault.kmsAlias: must start with alias/'],
  [
    'tenant role cluster-admin',
    c0('tenants'),
    [{ name: 'team-a', role: 'cluster-admin' }],
    'clusters[0].tenants[0].role: must not be cluster-admin',
  ],
  [
    'tenant name not DNS-1123',
    c0('tenants'),
    [{ name: 'Team_A' }],
    'clusters[0].tenants[0].name: must be a DNS-1123 label',
  ],
  [
    'https fleet URL',
    c0('fleet', 'url'),
    'https://github.com/acme/fleet.git',
    'clusters[0].fleet.url: must be an ssh URL',
  ],
  [
    'kubernetes patch version',
    c0('kubernetes', 'version'),
    '1.34.1',
    'clusters[0].kubernetes.version: must be a Kubernetes minor',
  ],
  ['duration with words', c0('flux', 'timeout'), '10 minutes', 'clusters[0].flux.timeout: must be a duration'],
  ['no Flux concurrency', c0('flux', 'concurrent'), 0, 'clusters[0].flux.concurrent: must be ≥ 1'],
  ['fractional Flux concurrency', c0('flux', 'concurrent'), 2.5, 'clusters[0].flux.concurrent: must be a whole number'],
  ['unknown access mode', c0('kubernetes', 'access'), 'iam', 'clusters[0].kubernetes.access: Invalid option'],
  ['missing aws block', c0('aws'), undefined, 'clusters[0].aws: is required'],
  ['missing fleet url', c0('fleet', 'url'), undefined, 'clusters[0].fleet.url: is required'],
  ['no clusters', ['clusters'], [], 'clusters: must list at least one cluster'],
  [
    'chart repository not a URL',
    c0('flux', 'charts', 'istio'),
    { url: 'charts/istio' },
    'clusters[0].flux.charts.istio.url: must be a chart repository URL',
  ],
  [
    'chart repository typo',
    c0('flux', 'charts', 'vault'),
    { url: 'https://charts.example.com', secret: 'x' },
    'clusters[0].flux.charts.vault.secret: unknown key',
  ],
  [
    'ECR charts over https',
    c0('flux', 'charts', 'istio'),
    { url: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/helm' },
    'clusters[0].flux.charts.istio.url: ECR serves Helm charts over OCI only',
  ],
  [
    "another account's ECR without credentials",
    c0('flux', 'charts', 'vault'),
    { url: 'oci://210987654321.dkr.ecr.us-east-1.amazonaws.com/helm' },
    'clusters[0].flux.charts.vault.secretRef: is required for 210987654321.dkr.ecr.us-east-1.amazonaws.com',
  ],
  [
    'chart credentials not a Secret name',
    c0('flux', 'charts', 'vault'),
    { url: 'https://charts.example.com', secretRef: 'Artifactory Helm' },
    'clusters[0].flux.charts.vault.secretRef: must be the name of a Secret in flux-system',
  ],
  [
    'istio namespace not DNS-1123',
    c0('istio', 'namespaces'),
    ['Apps'],
    'clusters[0].istio.namespaces[0]: must be a DNS-1123',
  ],
];

describe('validateConfig refuses bad configs with the field path and exit code 2', () => {
  it.each(cases)('%s', (_what, at, value, line) => {
    const err = refuse(withField(rawPlatform(), at, value));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message.split('\n')[0]).toMatch(/^platform\.yaml is invalid \(\d+ problems?\):$/);
    expect(
      problemLines(err).some((l) => l.startsWith(line)),
      `no line starting "${line}" in:\n${err.message}`,
    ).toBe(true);
  });

  it('names the second of two clusters with the same name', () => {
    const err = refuse(rawPlatform(rawCluster('demo'), rawCluster('other'), rawCluster('demo')));
    expect(problemLines(err)).toEqual(['clusters[2].name: duplicates clusters[0].name']);
    expect(err.exitCode).toBe(2);
  });

  it('reports every problem together, one line each, across clusters', () => {
    let raw = rawPlatform(rawCluster('a'), rawCluster('b'));
    raw = withField(raw, c0('aws', 'region'), 'moon-1');
    raw = withField(raw, ['clusters', 1, 'terraform', 'vpcCidr'], '10.0.0.1/16');
    raw = withField(raw, ['clusters', 1, 'vualt'], {});
    const err = refuse(raw);
    expect(err.message.split('\n')[0]).toBe('platform.yaml is invalid (3 problems):');
    expect(problemLines(err).sort()).toEqual([
      'clusters[0].aws.region: must be an AWS region such as us-east-1',
      'clusters[1].terraform.vpcCidr: must be an IPv4 CIDR such as 10.0.0.0/16',
      'clusters[1].vualt: unknown key',
    ]);
  });

  it('accepts the base config, so every refusal above is down to the one broken field', () => {
    expect(validateConfig(rawPlatform(), 'platform.yaml').clusters[0]?.name).toBe('demo');
  });
});

/*
 * regression (config-type-message): formatIssues prints "is required" for every invalid_type issue, because zod 4
 * leaves issue.input undefined unless the parse is asked to report it. A wrong type must say so.
 */
describe('regression (config-type-message): a value of the wrong type is not reported as missing', () => {
  const typeCases: Array<[string, Array<string | number>, unknown, string]> = [
    ['replicas as a word', c0('vault', 'replicas'), 'three', 'clusters[0].vault.replicas: '],
    ['account id as a number', c0('aws', 'accountId'), 123456789012, 'clusters[0].aws.accountId: '],
    ['tenants as a map', c0('tenants'), { 'team-a': {} }, 'clusters[0].tenants: '],
  ];
  it.each(typeCases)('%s', (_what, at, value, prefix) => {
    const err = refuse(withField(rawPlatform(), at, value));
    expect(err.exitCode).toBe(2);
    const line = problemLines(err).find((l) => l.startsWith(prefix));
    expect(line, err.message).toBeDefined();
    expect(line).toMatch(/expected (number|string|array)/);
    expect(line).not.toContain('is required');
  });
});

/*
 * regression (config-all-problems): vault's cross-field checks (threshold ≤ shares, one PGP key per share) are
 * skipped by zod when another vault field has the wrong type, so a second run shows a new problem.
 */
describe('regression (config-all-problems): a type error does not hide the cross-field checks', () => {
  it('reports a bad replicas and threshold > shares together', () => {
    const err = refuse(withField(rawPlatform(), c0('vault'), { replicas: 'three', keyShares: 2, keyThreshold: 3 }));
    const lines = problemLines(err);
    expect(lines.some((l) => l.startsWith('clusters[0].vault.replicas: '))).toBe(true);
    expect(lines).toContain('clusters[0].vault.keyThreshold: must be ≤ keyShares (2)');
  });
});
