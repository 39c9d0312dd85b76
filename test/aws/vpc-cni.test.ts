/**
 * Whether a cluster enforces NetworkPolicies, read from the vpc-cni add-on's configuration values. moto has
 * no add-on API, so EKS is a fake behind `send(command)`.
 */
import { describe, expect, it } from 'vitest';
import { enableNetworkPolicy, networkPolicyState } from '../../src/aws/vpc-cni.js';
import type { AwsClients } from '../../src/clients/aws.js';
import { clusterConfig } from '../helpers/config.js';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name}: not found`), { name, $metadata: { httpStatusCode: status } });

/** EKS answering DescribeAddon from `addon` (undefined: no add-on) and DescribeCluster from `cluster`. */
function fakeEks(o: { addon?: { configurationValues?: string }; cluster: boolean; addonError?: Error }) {
  const calls: string[] = [];
  const send = async (cmd: { constructor: { name: string } }) => {
    const op = cmd.constructor.name.replace(/Command$/, '');
    calls.push(op);
    if (op === 'DescribeAddon') {
      if (o.addonError) throw o.addonError;
      if (!o.cluster || !o.addon) throw sdkError('ResourceNotFoundException', 404);
      return { addon: { addonName: 'vpc-cni', ...o.addon } };
    }
    if (op === 'DescribeCluster') {
      if (!o.cluster) throw sdkError('ResourceNotFoundException', 404);
      return { cluster: { name: 'demo', status: 'ACTIVE' } };
    }
    throw new Error(`fake EKS: ${op}`);
  };
  const aws = { region: 'us-east-1', counts: { reads: 0, writes: 0, calls: [] }, eks: async () => ({ send }) };
  return { ctx: { aws: aws as unknown as AwsClients, cluster: clusterConfig('demo') }, calls };
}

describe('enableNetworkPolicy', () => {
  it('reads the JSON or YAML configuration values EKS accepts', async () => {
    expect(await enableNetworkPolicy('{"enableNetworkPolicy":"true"}')).toBe(true);
    expect(await enableNetworkPolicy('enableNetworkPolicy: "true"\nenv: {}')).toBe(true);
    expect(await enableNetworkPolicy('{"enableNetworkPolicy":"false"}')).toBe(false);
    expect(await enableNetworkPolicy('{"env":{"WARM_IP_TARGET":"5"}}')).toBeUndefined();
    expect(await enableNetworkPolicy(undefined)).toBeUndefined();
    expect(await enableNetworkPolicy('{ not yaml: [')).toBeUndefined();
  });
});

describe('networkPolicyState', () => {
  it('is on when the add-on enables the policy agent (one DescribeAddon)', async () => {
    const f = fakeEks({ cluster: true, addon: { configurationValues: '{"enableNetworkPolicy":"true"}' } });
    expect((await networkPolicyState(f.ctx, 'demo')).state).toBe('on');
    expect(f.calls).toEqual(['DescribeAddon']);
  });

  it('is off, saying so, when the add-on has it off or unset', async () => {
    for (const configurationValues of ['{"enableNetworkPolicy":"false"}', undefined]) {
      const f = fakeEks({ cluster: true, addon: { configurationValues } });
      const r = await networkPolicyState(f.ctx, 'demo');
      expect(r.state).toBe('off');
      expect(r.detail).toContain('not enforced');
    }
  });

  it('is unknown for a cluster without the add-on, and absent without a cluster', async () => {
    expect((await networkPolicyState(fakeEks({ cluster: true }).ctx, 'demo')).state).toBe('unknown');
    expect((await networkPolicyState(fakeEks({ cluster: false }).ctx, 'demo')).state).toBe('absent');
  });

  it('is unknown on an endpoint without the add-on API, and other errors still fail', async () => {
    const html404 = Object.assign(new Error('UnknownError'), {
      name: 'UnknownError',
      $metadata: { httpStatusCode: 404 },
    });
    expect((await networkPolicyState(fakeEks({ cluster: true, addonError: html404 }).ctx, 'demo')).state).toBe(
      'unknown',
    );
    const denied = sdkError('AccessDeniedException', 403);
    await expect(networkPolicyState(fakeEks({ cluster: true, addonError: denied }).ctx, 'demo')).rejects.toThrow(
      /eks:DescribeAddon/,
    );
  });
});
