/**
 * `platctl eks token --cluster <c> [--region <r>] [--role-arn <arn>]`: the kubectl exec plugin platctl writes
 * into kubeconfigs. Prints an ExecCredential (client.authentication.k8s.io/v1beta1) holding a fresh EKS bearer
 * token to stdout; nothing else goes to stdout. Needs no config file and no aws CLI.
 */
import type { Command } from 'commander';
import { createEksToken, type EksToken } from '../aws/eks-token.js';
import { isIsolatedRegion } from '../aws/partition.js';
import { PlatctlError } from '../errors.js';

/** The ExecCredential a kubectl exec plugin prints (client.authentication.k8s.io/v1beta1). */
export interface ExecCredential {
  kind: 'ExecCredential';
  apiVersion: 'client.authentication.k8s.io/v1beta1';
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

/** Wraps a token as an ExecCredential; the timestamp is RFC 3339 without fractions. */
export function execCredential(t: EksToken): ExecCredential {
  return {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    status: { expirationTimestamp: t.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), token: t.token },
  };
}

/** Flags of `platctl eks token`. */
export interface EksTokenFlags {
  cluster: string;
  region?: string;
  roleArn?: string;
}

/** Prints the ExecCredential for one cluster; resolves to the exit code. */
export default async function eksToken(opts: EksTokenFlags, _cmd?: Command): Promise<number> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new PlatctlError('USAGE', `no region for EKS cluster ${opts.cluster}`, {
      hint: 'pass --region <region> (or set AWS_REGION)',
    });
  }
  if (isIsolatedRegion(region))
    throw new PlatctlError(
      'USAGE',
      `region ${region} is in an isolated AWS partition, which platctl does not support`,
      {
        hint: 'platctl supports the aws, aws-cn and aws-us-gov partitions',
      },
    );
  const token = await createEksToken({ cluster: opts.cluster, region, roleArn: opts.roleArn });
  process.stdout.write(`${JSON.stringify(execCredential(token))}\n`);
  return 0;
}
