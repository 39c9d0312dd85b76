/** platctl's own `eks token` exec stanza is recognised exactly, and anything else is left to the plugin it names. */
import { describe, expect, it } from 'vitest';
import { ownEksTokenArgs } from '../../src/clients/own-exec.js';
import { execArgs } from '../../src/kubeconfig.js';

const written = (roleArn?: string) => execArgs({ cluster: 'demo', region: 'eu-west-1', roleArn });

describe('ownEksTokenArgs', () => {
  it('reads what platctl writes into a kubeconfig, with the role and the profile', () => {
    expect(ownEksTokenArgs({ command: 'platctl', args: written() })).toEqual({ cluster: 'demo', region: 'eu-west-1' });
    const role = 'arn:aws:iam::111122223333:role/platform-admin';
    expect(
      ownEksTokenArgs({
        command: '/usr/local/bin/platctl',
        args: written(role),
        env: [{ name: 'AWS_PROFILE', value: 'prod' }],
      }),
    ).toEqual({ cluster: 'demo', region: 'eu-west-1', roleArn: role, profile: 'prod' });
  });

  it.each([
    ['another command', { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'demo'] }],
    ['a command merely ending in platctl', { command: 'not-platctl', args: written() }],
    ['another subcommand', { command: 'platctl', args: ['eks', 'kubeconfig', '--cluster', 'demo'] }],
    ['a flag eks token may learn later', { command: 'platctl', args: [...written(), '--output', 'json'] }],
    ['a repeated flag', { command: 'platctl', args: [...written(), '--cluster', 'other'] }],
    ['a flag with no value', { command: 'platctl', args: ['eks', 'token', '--cluster', 'demo', '--region'] }],
    ['no region (the child would read AWS_REGION)', { command: 'platctl', args: ['eks', 'token', '--cluster', 'x'] }],
    ['an isolated region', { command: 'platctl', args: execArgs({ cluster: 'demo', region: 'us-iso-east-1' }) }],
    ['an env entry other than AWS_PROFILE', { command: 'platctl', args: written(), env: [{ name: 'A', value: '1' }] }],
  ])('leaves %s to the process it names', (_, exec) => {
    expect(ownEksTokenArgs(exec)).toBeUndefined();
  });
});
