/**
 * The four AWS steps refuse the wrong account before writing anything, and a refused permission names the
 * action, the resource and the caller. moto does not enforce IAM in the shared lab, so the denial is injected
 * with SDK middleware on the step's own client: everything else is the real step against moto.
 */

import { IAMServiceException } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/clients/aws.js';
import { destroyIam, iamStep } from '../../steps/iam.js';
import { kmsStep } from '../../steps/kms.js';
import { networkStep } from '../../steps/network.js';
import { registryStep } from '../../steps/registry.js';
import { awsCluster, awsContext, failCommand, uniqueCluster, useLabAws } from '../helpers/aws-context.js';
import { lab } from '../lab/env.js';

const env = lab();
useLabAws(env);

describe('AWS steps and the account guard', () => {
  const wrong = awsCluster(env, uniqueCluster('acct'), { aws: { accountId: '999999999999', region: env.region } });
  const outputs = {
    cluster: {
      oidcIssuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/WRONGACCOUNT',
      clusterAdditionalSecurityGroupId: 'sg-0000000000000000a',
      nodeSharedSecurityGroupId: 'sg-0000000000000000b',
    },
  };

  for (const step of [iamStep, kmsStep, networkStep, registryStep])
    it(`${step.id}: apply in the wrong account fails with exit 2 before any write`, async () => {
      const kubeCalls: string[] = [];
      const t = awsContext(wrong, {
        outputs,
        kube: async () => {
          kubeCalls.push('connect');
          throw new Error('kube must not be reached');
        },
      });
      await expect(step.apply(t.ctx)).rejects.toMatchObject({ code: 'AWS_ACCOUNT_MISMATCH', exitCode: 2 });
      expect(t.aws.counts.writes).toBe(0);
      expect(t.aws.counts.calls).toEqual(['sts:GetCallerIdentity']);
      expect(kubeCalls).toEqual([]);
    });
});

describe('AccessDenied from IAM', () => {
  it('names the action, the role and the calling principal', async () => {
    const name = uniqueCluster('denied');
    const cluster = awsCluster(env, name);
    const t = awsContext(cluster, {
      outputs: { cluster: { oidcIssuer: `https://oidc.eks.us-east-1.amazonaws.com/id/${name.toUpperCase()}` } },
    });
    // Stands in for IAM refusing CreateRole to this caller (moto's IAM enforcement is off in the shared lab).
    failCommand(
      await t.aws.iam(),
      'CreateRoleCommand',
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform iam:CreateRole',
      }),
    );
    const me = await (await createAwsClients({ region: env.region }).sts()).send(new GetCallerIdentityCommand({}));
    try {
      const err = await iamStep.apply(t.ctx).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'AWS_ACCESS_DENIED' });
      expect((err as Error).message).toMatch(
        new RegExp(`^AWS denied iam:CreateRole on role eks-[a-z-]+-${name} to ${me.Arn?.replace(/[/.]/g, '\\$&')}$`),
      );
      expect((err as { hint?: string }).hint).toContain('grant iam:CreateRole');
    } finally {
      await destroyIam(awsContext(cluster, { outputs: t.outputs }).ctx);
    }
  });
});
