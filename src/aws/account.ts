/**
 * Refuses to touch the wrong AWS account: GetCallerIdentity must return the config's accountId before any
 * step creates anything. The answer is cached per factory, so the check costs one call per run.
 */
import type { AwsClients } from '../clients/aws.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError, wrapError } from '../errors.js';

const verified = new WeakMap<AwsClients, Promise<{ account: string; arn: string }>>();

/** Returns the caller identity, or throws AWS_ACCOUNT_MISMATCH (exit 2) / AWS_CREDENTIALS. */
export function assertAccount(aws: AwsClients, cluster: ClusterConfig): Promise<{ account: string; arn: string }> {
  let p = verified.get(aws);
  if (!p) {
    p = (async () => {
      const { GetCallerIdentityCommand } = await import('./sts.js');
      let id: { Account?: string; Arn?: string };
      try {
        id = await (await aws.sts()).send(new GetCallerIdentityCommand({}));
      } catch (err) {
        throw wrapError(
          'AWS_CREDENTIALS',
          'cannot call STS GetCallerIdentity (no usable AWS credentials?)',
          err,
          'configure credentials (AWS_PROFILE, SSO login, or environment variables) and run `platctl doctor`',
        );
      }
      if (id.Account !== cluster.aws.accountId) {
        throw new PlatctlError(
          'AWS_ACCOUNT_MISMATCH',
          `AWS credentials are for account ${id.Account} (${id.Arn}) but clusters[${cluster.name}].aws.accountId is ${cluster.aws.accountId}`,
          {
            hint: 'switch AWS_PROFILE (or credentials) to the right account, or fix aws.accountId; nothing was created',
          },
        );
      }
      return { account: id.Account ?? '', arn: id.Arn ?? '' };
    })();
    p.catch(() => verified.delete(aws));
    verified.set(aws, p);
  }
  return p;
}
