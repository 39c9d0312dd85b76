/**
 * Finding a cluster's KMS keys without their alias (a run killed between CreateKey and CreateAlias leaves one).
 * Landing-zone accounts hold keys whose key policy does not delegate to IAM: platctl may not even read their
 * tags. Such a key cannot be one platctl made (its keys always let the account administer them, see
 * keyPolicy), so it is skipped and counted rather than failing the `kms` step or a teardown.
 *
 * Order and scope: keys behind this cluster's own aliases (`alias/platctl/<cluster>/…`) first, then every other
 * customer key. Keys behind `alias/aws/…` (AWS managed: they cannot carry platctl's tags) and behind another
 * cluster's platctl aliases are not read at all.
 */
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { isAccessDenied } from './errors.js';
import { KEY_PURPOSES, KEY_TAG, type KeyPurpose } from './kms-ops.js';
import { mapLimit } from './parallel.js';
import { CLUSTER_TAG } from './tags.js';

/** Tag reads in flight at once: KMS allows far more, but a landing zone's other automation shares the quota. */
const TAG_READS_IN_FLIGHT = 8;

/** Every alias of the region, as key id → alias names (all pages). */
async function aliasesByKey(kms: KMSClient): Promise<Map<string, string[]>> {
  const { ListAliasesCommand } = await import('./kms.js');
  const byKey = new Map<string, string[]>();
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListAliasesCommand({ Limit: 100, Marker: marker }));
    for (const a of page.Aliases ?? [])
      if (a.AliasName && a.TargetKeyId) byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName]);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return byKey;
}

/** The key ids worth reading, this cluster's aliased keys first. */
export async function candidateKeys(kms: KMSClient, cluster: string): Promise<string[]> {
  const { ListKeysCommand } = await import('./kms.js');
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker }));
    for (const k of page.Keys ?? []) if (k.KeyId) ids.push(k.KeyId);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const aliases = await aliasesByKey(kms);
  const mine = `alias/platctl/${cluster}/`;
  const ours: string[] = [];
  const rest: string[] = [];
  for (const id of ids) {
    const names = aliases.get(id) ?? [];
    if (names.some((n) => n.startsWith(mine))) ours.push(id);
    else if (names.length > 0 && names.every((n) => n.startsWith('alias/aws/') || n.startsWith('alias/platctl/')))
      continue;
    else rest.push(id);
  }
  return [...ours, ...rest];
}

/** What a search found. */
export interface ClusterKeySearch {
  /** Keys tagged for the cluster, by their `platctl.io/key` purpose, oldest first. */
  byPurpose: Map<KeyPurpose, KeyMetadata[]>;
  /** Keys whose tags platctl was not allowed to read (AccessDenied): not platctl's, but said so. */
  skipped: number;
}

/**
 * Every key tagged `platctl.io/cluster=<cluster>` with a `platctl.io/key` purpose (one pass over the region's
 * keys for all purposes), and how many keys could not be read. Pending-deletion keys are left out unless
 * `includePending`.
 */
export async function findClusterKeys(
  kms: KMSClient,
  cluster: string,
  opts: { includePending?: boolean } = {},
): Promise<ClusterKeySearch> {
  const { ListResourceTagsCommand, DescribeKeyCommand } = await import('./kms.js');
  let skipped = 0;
  const matches = await mapLimit(await candidateKeys(kms, cluster), TAG_READS_IN_FLIGHT, async (KeyId) => {
    try {
      const tags = (await kms.send(new ListResourceTagsCommand({ KeyId }))).Tags ?? [];
      const value = (k: string) => tags.find((t) => t.TagKey === k)?.TagValue;
      const purpose = value(KEY_TAG);
      return value(CLUSTER_TAG) === cluster && isPurpose(purpose) ? { KeyId, purpose } : undefined;
    } catch (err) {
      // Denied: a key policy that does not delegate to IAM, so not a key platctl made. Otherwise a key deleted
      // meanwhile, or one that cannot carry tags.
      if (isAccessDenied(err)) skipped++;
      return undefined;
    }
  });
  const byPurpose = new Map<KeyPurpose, KeyMetadata[]>(KEY_PURPOSES.map((p) => [p, []]));
  for (const m of matches) {
    if (!m) continue;
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: m.KeyId }))).KeyMetadata;
    if (meta && (opts.includePending || meta.KeyState !== 'PendingDeletion')) byPurpose.get(m.purpose)?.push(meta);
  }
  for (const keys of byPurpose.values())
    keys.sort((a, b) => (a.CreationDate?.getTime() ?? 0) - (b.CreationDate?.getTime() ?? 0));
  return { byPurpose, skipped };
}

const isPurpose = (v: string | undefined): v is KeyPurpose => KEY_PURPOSES.includes(v as KeyPurpose);

/** The log line for skipped keys, or undefined when none was. */
export function skippedLine(skipped: number): string | undefined {
  if (skipped === 0) return undefined;
  const keys = skipped === 1 ? '1 KMS key' : `${skipped} KMS keys`;
  return `skipped ${keys} whose tags these credentials may not read (key policy does not delegate to IAM): not platctl's`;
}
