/**
 * The `vault init` flow. Key files are validated before Vault is contacted; the intent is recorded on disk
 * before `PUT /v1/sys/init`; Vault's answer (PGP ciphertext only) is written 0600 and fsync'd before anything
 * else happens. If the process dies between Vault's answer and that write (hashicorp/vault#16201), the next run
 * finds Vault initialised, the output missing and the intent present, and stops loudly: it never re-initialises.
 */

import { createHash } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KubeClient } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { Logger } from '../log.js';
import { clusterDir, whoAmI } from '../paths.js';
import { crashPoint } from '../test-seams.js';
import type { InitRequest, InitResponse, VaultApi } from './api.js';
import { CLUSTER_INTENT, clearIntentInCluster, type InitIntent, recordIntentInCluster } from './intent-record.js';
import { isPgpMessage, type PgpPublicKey, readPgpPublicKey, readPgpPublicKeys } from './pgp.js';

/** What `vault init` is asked to do: from platform.yaml, or overridden by the command's flags. */
export interface InitPlan {
  shares: number;
  threshold: number;
  pgpKeyFiles: string[];
  rootTokenPgpKeyFile?: string;
}

/** Validated keys: one per share, in share order, plus the root token's. */
export interface InitKeys {
  plan: InitPlan;
  shareKeys: PgpPublicKey[];
  rootKey: PgpPublicKey;
}

/** What platctl keeps on disk for a cluster's Vault init. */
export interface InitFiles {
  /** The encrypted init output (0600). */
  output: string;
  /** Written before PUT /v1/sys/init, removed after the output is safe. */
  intent: string;
}

/** What is on disk now. */
export interface LocalInit {
  files: InitFiles;
  output?: { sha256: string; fingerprints: string[]; initializedAt?: string };
  intent?: InitIntent;
}

/** The file names for a cluster (`clusterDir(cluster)/vault-init.json`). */
export function initFiles(cluster: string): InitFiles {
  const dir = clusterDir(cluster);
  return { output: path.join(dir, 'vault-init.json'), intent: path.join(dir, 'vault-init.intent.json') };
}

/**
 * The plan from platform.yaml's `vault` section: `keyShares` is what reaches Vault (the schema made it the
 * number of pgpKeys when left out, and refuses a keyShares that differs from that number).
 */
export function planFromConfig(vault: ClusterConfig['vault']): InitPlan {
  return {
    shares: vault.keyShares,
    threshold: vault.keyThreshold,
    pgpKeyFiles: [...vault.pgpKeys],
    rootTokenPgpKeyFile: vault.rootTokenPgpKey,
  };
}

/** Checks the plan's numbers and reads every key file. Throws USAGE before anything talks to Vault. */
export async function loadInitKeys(plan: InitPlan, now = new Date()): Promise<InitKeys> {
  const usage = (msg: string, hint: string) => new PlatctlError('USAGE', msg, { hint });
  if (plan.pgpKeyFiles.length === 0) {
    throw usage(
      'vault init needs one PGP public key per share: platctl never handles plaintext unseal keys',
      'set vault.pgpKeys and vault.rootTokenPgpKey in platform.yaml, or pass --pgp-key <file> (repeated) and --root-token-pgp-key <file>',
    );
  }
  if (plan.pgpKeyFiles.length !== plan.shares) {
    throw usage(
      `${plan.pgpKeyFiles.length} PGP keys for ${plan.shares} shares: one key per share`,
      'list exactly one key file per share',
    );
  }
  if (!Number.isInteger(plan.threshold) || plan.threshold < 1 || plan.threshold > plan.shares) {
    throw usage(`key threshold ${plan.threshold} must be between 1 and ${plan.shares}`, 'pass --key-threshold <n>');
  }
  if (plan.shares > 1 && plan.threshold < 2) {
    throw usage('a key threshold of 1 with several shares is refused by Vault', 'pass --key-threshold 2 or more');
  }
  if (!plan.rootTokenPgpKeyFile) {
    throw usage(
      'vault init needs a PGP key for the root token (it is never shown in plaintext)',
      'set vault.rootTokenPgpKey in platform.yaml or pass --root-token-pgp-key <file>',
    );
  }
  const shareKeys = await readPgpPublicKeys(plan.pgpKeyFiles, { now, from: 'vault.pgpKeys or --pgp-key' });
  const rootKey = await readPgpPublicKey(plan.rootTokenPgpKeyFile, {
    now,
    from: 'vault.rootTokenPgpKey or --root-token-pgp-key',
  });
  return { plan, shareKeys, rootKey };
}

/** The `PUT /v1/sys/init` body: recovery_* with an auto-unseal seal, secret_* with Shamir. */
export function initRequest(keys: InitKeys, sealType: string): InitRequest {
  const pgp = keys.shareKeys.map((k) => k.base64);
  const common = { root_token_pgp_key: keys.rootKey.base64 };
  return sealType === 'shamir'
    ? { secret_shares: keys.plan.shares, secret_threshold: keys.plan.threshold, pgp_keys: pgp, ...common }
    : { recovery_shares: keys.plan.shares, recovery_threshold: keys.plan.threshold, recovery_pgp_keys: pgp, ...common };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function readJson(file: string): Promise<{ text: string; json: Record<string, unknown> } | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    return { text, json: JSON.parse(text) as Record<string, unknown> };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlatctlError('VAULT_INIT_FILE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the local output's sha256 and fingerprints, and the intent, if present. */
export async function readLocalInit(cluster: string): Promise<LocalInit> {
  const files = initFiles(cluster);
  const out = await readJson(files.output);
  const intent = await readJson(files.intent);
  const fps = out?.json.fingerprints;
  return {
    files,
    ...(out
      ? {
          output: {
            sha256: sha256(out.text),
            fingerprints: Array.isArray(fps) ? fps.map(String) : [],
            initializedAt: typeof out.json.initializedAt === 'string' ? out.json.initializedAt : undefined,
          },
        }
      : {}),
    ...(intent ? { intent: intent.json as unknown as InitIntent } : {}),
  };
}

/** The loud error: Vault was initialised, but its answer never reached the disk. Never re-initialise. */
export function lostInitError(local: LocalInit, vaultAddr: string, recordedIn = local.files.intent): PlatctlError {
  const i = local.intent;
  const when = i ? ` (init started ${i.startedAt} by ${i.by}, recorded in ${recordedIn})` : '';
  return new PlatctlError(
    'VAULT_INIT_LOST',
    `VAULT INIT OUTPUT LOST: Vault at ${vaultAddr} is initialised, but ${local.files.output} was never written${when}. ` +
      'The encrypted unseal/recovery keys and root token existed only in the lost answer (hashicorp/vault#16201). ' +
      'platctl will NOT initialise again.',
    {
      hint:
        'recovery (docs/commands/vault.md#recovering-a-lost-init-output): this Vault holds no data yet; wipe its Raft storage ' +
        '(delete the Vault StatefulSet and its data-* PVCs), run `platctl bootstrap <cluster> --from vault`, and vault-init runs again. ' +
        `Only if you must keep this Vault as it is, delete ${recordedIn} (and ${CLUSTER_INTENT}) to accept it as initialised outside platctl.`,
    },
  );
}

/** Moves an output left from an earlier Vault (now uninitialised) aside, so it is never overwritten. */
async function keepOldOutput(files: InitFiles, log: Logger): Promise<void> {
  const aside = `${files.output}.${new Date().toISOString().replace(/[:.]/g, '-')}.old`;
  try {
    await rename(files.output, aside);
    log.warning(`Vault is uninitialised but ${files.output} exists (from an earlier Vault): kept as ${aside}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** What {@link initialiseVault} returns: outputs for state and the file written. */
export interface InitResult {
  file: string;
  sha256: string;
  fingerprints: string[];
  rootTokenFingerprint: string;
  sealType: string;
}

/**
 * Initialises an uninitialised Vault. The caller has checked `GET /v1/sys/init` said false and loaded the keys.
 * Order matters: intent → PUT → (crash point) → output file → intent removed.
 */
export async function initialiseVault(o: {
  api: VaultApi;
  cluster: string;
  keys: InitKeys;
  sealType: string;
  log: Logger;
  /** The cluster, for a copy of the intent any machine can find (see intent-record.ts). */
  kube?: KubeClient;
}): Promise<InitResult> {
  const files = initFiles(o.cluster);
  const fingerprints = o.keys.shareKeys.map((k) => k.fingerprint);
  const intent: InitIntent = {
    cluster: o.cluster,
    vaultAddr: o.api.addr,
    startedAt: new Date().toISOString(),
    by: whoAmI(),
    sealType: o.sealType,
    shares: o.keys.plan.shares,
    threshold: o.keys.plan.threshold,
    fingerprints,
    rootTokenFingerprint: o.keys.rootKey.fingerprint,
  };
  await keepOldOutput(files, o.log);
  await writeFileAtomic(files.intent, `${JSON.stringify(intent, null, 2)}\n`, 0o600);
  if (o.kube) {
    await recordIntentInCluster(o.kube, intent).catch((err: unknown) =>
      o.log.warning(
        `the init intent is recorded only in ${files.intent}: ${CLUSTER_INTENT}: ${(err as Error).message}`,
      ),
    );
  }
  const answer: InitResponse = await o.api.init(initRequest(o.keys, o.sealType));
  crashPoint('vault-init', 'after-init-call');
  // Vault's own fields exactly as returned (ciphertext), then what a key holder needs to know.
  const doc = {
    ...answer,
    cluster: o.cluster,
    vaultAddr: o.api.addr,
    initializedAt: new Date().toISOString(),
    sealType: o.sealType,
    shares: o.keys.plan.shares,
    threshold: o.keys.plan.threshold,
    fingerprints,
    holders: o.keys.shareKeys.map((k, i) => ({ share: i, fingerprint: k.fingerprint, userIds: k.userIds })),
    rootTokenFingerprint: o.keys.rootKey.fingerprint,
  };
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  await writeFileAtomic(files.output, text, 0o600);
  await rm(files.intent, { force: true });
  if (o.kube) {
    await clearIntentInCluster(o.kube).catch((err: unknown) =>
      o.log.warning(`could not remove ${CLUSTER_INTENT} (delete it by hand): ${(err as Error).message}`),
    );
  }
  const shares = o.sealType === 'shamir' ? answer.keys_base64 : answer.recovery_keys_base64;
  const encrypted = [...(shares ?? []), answer.root_token];
  const allPgp = (await Promise.all(encrypted.map(isPgpMessage))).every(Boolean);
  if (!allPgp || (shares ?? []).length !== o.keys.plan.shares) {
    throw new PlatctlError(
      'VAULT_INIT_PLAINTEXT',
      `Vault's init answer (saved to ${files.output}) is not ${o.keys.plan.shares} PGP-encrypted shares and a PGP-encrypted root token`,
      { hint: 'treat that file as plaintext key material: move it offline and rekey Vault' },
    );
  }
  return {
    file: files.output,
    sha256: sha256(text),
    fingerprints,
    rootTokenFingerprint: intent.rootTokenFingerprint,
    sealType: o.sealType,
  };
}
