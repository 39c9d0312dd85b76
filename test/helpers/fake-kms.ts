/**
 * A fake KMS behind the narrow `send(command)` interface, for what moto cannot play: keys whose key policy does
 * not delegate to IAM, so every read of them is denied (landing-zone accounts). Keys, aliases and tags live in
 * Maps; every call is recorded as `<op> <key or alias>`. STS answers for the account guard.
 */
import type { AwsClients } from '../../src/clients/aws.js';

/** One fake key. */
export interface FakeKey {
  tags: Record<string, string>;
  /** Every call on this key is refused (AccessDeniedException), as with a policy that does not name IAM. */
  denied?: boolean;
  state?: 'Enabled' | 'PendingDeletion';
  created?: number;
  policy?: string;
}

const sdkError = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

/** Builds the fake: `aws` for the step context; `keys`, `aliases` and `calls` for assertions. */
export function fakeKms(o: { keys: Record<string, FakeKey>; aliases?: Record<string, string>; account: string }) {
  const keys = new Map(Object.entries(structuredClone(o.keys)));
  const aliases = new Map(Object.entries(o.aliases ?? {}));
  const calls: string[] = [];
  let next = 0;
  const resolve = (id: string) => {
    const keyId = id.startsWith('alias/') ? aliases.get(id) : id.replace(/^arn:.*:key\//, '');
    const key = keyId ? keys.get(keyId) : undefined;
    if (!keyId || !key) throw sdkError('NotFoundException', 400, `${id} not found`);
    if (key.denied)
      throw sdkError('AccessDeniedException', 400, `User: arn:aws:iam::${o.account}:user/x is not authorized`);
    return { keyId, key };
  };
  const meta = (keyId: string, key: FakeKey) => ({
    KeyId: keyId,
    Arn: `arn:aws:kms:us-east-1:${o.account}:key/${keyId}`,
    KeyState: key.state ?? 'Enabled',
    CreationDate: new Date(key.created ?? 0),
  });
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const op = cmd.constructor.name.replace(/Command$/, '');
    const id = String(cmd.input.KeyId ?? cmd.input.AliasName ?? cmd.input.TargetKeyId ?? '');
    calls.push(id ? `${op} ${id}` : op);
    switch (op) {
      case 'GetCallerIdentity':
        return { Account: o.account, Arn: `arn:aws:iam::${o.account}:user/platform` };
      case 'ListKeys':
        return { Keys: [...keys.keys()].map((KeyId) => ({ KeyId })), Truncated: false };
      case 'ListAliases':
        return { Aliases: [...aliases].map(([AliasName, TargetKeyId]) => ({ AliasName, TargetKeyId })) };
      case 'ListResourceTags': {
        const { key } = resolve(id);
        return { Tags: Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) };
      }
      case 'DescribeKey': {
        const r = resolve(id);
        return { KeyMetadata: meta(r.keyId, r.key) };
      }
      case 'GetKeyPolicy':
        return { Policy: resolve(id).key.policy ?? '{}' };
      case 'CreateKey': {
        const keyId = `new-${++next}`;
        const tags = cmd.input.Tags as { TagKey: string; TagValue: string }[];
        const key: FakeKey = {
          tags: Object.fromEntries(tags.map((t) => [t.TagKey, t.TagValue])),
          created: Date.now(),
          policy: String(cmd.input.Policy),
        };
        keys.set(keyId, key);
        return { KeyMetadata: meta(keyId, key) };
      }
      case 'CreateAlias':
        aliases.set(String(cmd.input.AliasName), String(cmd.input.TargetKeyId));
        return {};
      case 'DeleteAlias':
        if (!aliases.delete(String(cmd.input.AliasName))) throw sdkError('NotFoundException', 400, 'no alias');
        return {};
      case 'ScheduleKeyDeletion':
        resolve(id).key.state = 'PendingDeletion';
        return {};
      case 'PutKeyPolicy':
        resolve(id).key.policy = String(cmd.input.Policy);
        return {};
      case 'TagResource':
        return {};
      default:
        throw new Error(`fake KMS: ${op} not played`);
    }
  };
  const client = { send };
  const aws = {
    region: 'us-east-1',
    counts: { reads: 0, writes: 0, calls: [] },
    kms: async () => client,
    sts: async () => client,
  } as unknown as AwsClients;
  return { aws, keys, aliases, calls };
}
