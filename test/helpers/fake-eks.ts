/**
 * A fake EKS access-entry API behind the narrow `send(command)` interface steps use, for the access-entry
 * path no lab component serves (moto answers 404). Keeps entries in a Map, records every call, and can deny
 * one operation (AccessDeniedException) to test error messages. STS answers for the account guard.
 */
import type { AwsClients } from '../../src/clients/aws.js';

/** One fake access entry. */
export interface FakeEntry {
  tags: Record<string, string>;
  policies: string[];
}

/** Options for {@link fakeEks}. */
export interface FakeEksOptions {
  existing?: Record<string, FakeEntry>;
  authenticationMode?: string;
  /** Operation name (without "Command") that fails with AccessDeniedException. */
  deny?: string;
}

const sdkError = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

/** Builds the fake; `aws` goes into the step context, the rest is for assertions. */
export function fakeEks(o: FakeEksOptions) {
  const entries = new Map<string, FakeEntry>(Object.entries(structuredClone(o.existing ?? {})));
  const calls: string[] = [];
  const scopes: string[] = [];
  const isRead = (op: string) => /^(Describe|List|Get)/.test(op);
  const need = (p: string) => {
    const e = entries.get(p);
    if (!e) throw sdkError('ResourceNotFoundException', 404, `no access entry for ${p}`);
    return e;
  };
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const op = cmd.constructor.name.replace(/Command$/, '');
    calls.push(op);
    if (op === o.deny) throw sdkError('AccessDeniedException', 403, 'User is not authorized');
    const p = String(cmd.input.principalArn ?? '');
    switch (op) {
      case 'DescribeCluster':
        return {
          cluster: {
            name: cmd.input.name,
            status: 'ACTIVE',
            accessConfig: { authenticationMode: o.authenticationMode ?? 'API_AND_CONFIG_MAP' },
          },
        };
      case 'ListAccessEntries':
        return { accessEntries: [...entries.keys()] };
      case 'DescribeAccessEntry':
        return { accessEntry: { principalArn: p, tags: need(p).tags } };
      case 'ListAssociatedAccessPolicies':
        return { associatedAccessPolicies: need(p).policies.map((policyArn) => ({ policyArn })) };
      case 'CreateAccessEntry':
        if (entries.has(p)) throw sdkError('ResourceInUseException', 409, 'exists');
        entries.set(p, { tags: (cmd.input.tags as Record<string, string>) ?? {}, policies: [] });
        return {};
      case 'AssociateAccessPolicy':
        need(p).policies.push(String(cmd.input.policyArn));
        scopes.push(String((cmd.input.accessScope as { type: string }).type));
        return {};
      case 'DeleteAccessEntry':
        need(p);
        entries.delete(p);
        return {};
      default:
        throw new Error(`fake EKS: unexpected ${op}`);
    }
  };
  const sts = { send: async () => ({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/tester' }) };
  const aws = {
    region: 'us-east-1',
    counts: { reads: 0, writes: 0, calls: [] },
    eks: async () => ({ send }),
    sts: async () => sts,
  } as unknown as AwsClients;
  return { aws, entries, calls, scopes, writes: () => calls.filter((c) => !isRead(c)).length };
}
