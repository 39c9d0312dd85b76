/** platctl's own `eks token` exec stanza is recognised exactly, and anything else is left to the plugin it names. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ownEksToken, ownEksTokenArgs } from '../../src/clients/own-exec.js';
import { isPlatctlError } from '../../src/errors.js';
import { execArgs } from '../../src/kubeconfig.js';
import { saveEnv } from '../helpers/saved-env.js';

const written = (roleArn?: string) => execArgs({ cluster: 'demo', region: 'eu-west-1', roleArn });

describe('ownEksTokenArgs', () => {
  it('reads what platctl writes into a kubeconfig, with the role and the profile', () => {
    expect(ownEksTokenArgs({ command: 'platctl', args: written() })).toEqual({ cluster: 'demo', region: 'eu-west-1' });
    const role = 'arn:aws:iam::111122223333:role/platform-admin';
    const stanza = {
      command: '/usr/local/bin/platctl',
      args: written(role),
      env: [{ name: 'AWS_PROFILE', value: 'prod' }],
    };
    expect(ownEksTokenArgs(stanza, { AWS_PROFILE: 'prod' })).toEqual({
      cluster: 'demo',
      region: 'eu-west-1',
      roleArn: role,
      profile: 'prod',
    });
    // The SDK reads a profile's endpoint_url only from AWS_PROFILE (test/aws/eks-token.test.ts): with another
    // profile in this process, the child, which gets AWS_PROFILE=prod, is the one that gets it right.
    expect(ownEksTokenArgs(stanza, { AWS_PROFILE: 'dev' })).toBeUndefined();
    expect(ownEksTokenArgs(stanza, {})).toBeUndefined();
  });

  it.each([
    ['another command', { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'demo'] }],
    ['a command merely ending in platctl', { command: 'not-platctl', args: written() }],
    ['another subcommand', { command: 'platctl', args: ['eks', 'kubeconfig', '--cluster', 'demo'] }],
    ['a flag eks token may learn later', { command: 'platctl', args: [...written(), '--output', 'json'] }],
    ['a repeated flag', { command: 'platctl', args: [...written(), '--cluster', 'other'] }],
    ['an object property as a flag', { command: 'platctl', args: [...written(), 'toString', 'x'] }],
    ['an empty AWS_PROFILE', { command: 'platctl', args: written(), env: [{ name: 'AWS_PROFILE', value: '' }] }],
    ['a flag with no value', { command: 'platctl', args: ['eks', 'token', '--cluster', 'demo', '--region'] }],
    ['no region (the child would read AWS_REGION)', { command: 'platctl', args: ['eks', 'token', '--cluster', 'x'] }],
    ['an isolated region', { command: 'platctl', args: execArgs({ cluster: 'demo', region: 'us-iso-east-1' }) }],
    ['an env entry other than AWS_PROFILE', { command: 'platctl', args: written(), env: [{ name: 'A', value: '1' }] }],
  ])('leaves %s to the process it names', (_, exec) => {
    expect(ownEksTokenArgs(exec, {})).toBeUndefined();
  });
});

describe('ownEksToken', () => {
  const keys = ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID'] as const;
  afterEach(saveEnv(...keys));

  it('gives up after its bound when the credentials never come, as the child plugin was stopped', async () => {
    // A credential_process that hangs (one waiting for a prompt nobody answers).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'own-exec-'));
    writeFileSync(path.join(dir, 'config'), '[profile stuck]\ncredential_process = sleep 30\n');
    for (const k of keys) delete process.env[k];
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none');
    process.env.AWS_PROFILE = 'stuck';
    const started = Date.now();
    const err = await ownEksToken({ cluster: 'demo', region: 'eu-west-1', profile: 'stuck' }, 1_000).catch((e) => e);
    expect(isPlatctlError(err) && err.code).toBe('KUBE_UNREACHABLE');
    expect(String(err.message)).toBe('no EKS token for cluster demo after 1s (AWS credentials)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
