/**
 * Preflight for the vault-init step: its PGP public keys are read and validated (public, not expired, not
 * revoked, able to encrypt), one per share and no key twice, long before Vault exists, so a bad key fails the
 * run before step 1 instead of at step 10 with a cluster already built.
 */
import { readFile } from 'node:fs/promises';
import type { ClusterConfig } from '../config/schema.js';
import { isPlatctlError } from '../errors.js';
import { fileDigest, type PreflightMemo } from './memo.js';
import type { PreflightProblem } from './problems.js';

/**
 * One key file's fingerprint: from the memo when these exact bytes passed before and still hold at `now`, else
 * read and validated (OpenPGP is loaded only then), and remembered.
 */
async function fingerprintOf(file: string, from: string, now: Date, memo?: PreflightMemo): Promise<string> {
  const bytes = memo ? await readFile(file).catch(() => undefined) : undefined;
  const digest = bytes && fileDigest(bytes);
  const known = digest ? memo?.key(digest, now) : undefined;
  if (known) return known;
  const { readPgpPublicKey } = await import('../vault/pgp.js');
  const key = await readPgpPublicKey(file, { now, from });
  if (digest) memo?.rememberKey(digest, key.fingerprint, now, key.validUntil);
  return key.fingerprint;
}

/** Every problem with vault.pgpKeys, vault.rootTokenPgpKey and the share numbers. */
export async function vaultKeyProblems(
  cluster: ClusterConfig,
  at: (field: string) => string,
  now = new Date(),
  memo?: PreflightMemo,
): Promise<PreflightProblem[]> {
  const { planFromConfig } = await import('../vault/init.js');
  const plan = planFromConfig(cluster.vault);
  const out: PreflightProblem[] = [];
  const add = (field: string, message: string) => out.push({ field: at(field), message });
  if (plan.pgpKeyFiles.length === 0)
    add('vault.pgpKeys', 'must list one PGP public key per share: vault-init never handles plaintext unseal keys');
  if (!plan.rootTokenPgpKeyFile)
    add('vault.rootTokenPgpKey', 'must name a PGP public key: vault-init never shows the root token in plaintext');
  if (plan.shares > 1 && plan.threshold < 2)
    add('vault.keyThreshold', `is 1 with ${plan.shares} shares, which Vault refuses: use 2 or more`);
  const files = [
    ...plan.pgpKeyFiles.map((file, i) => ({ field: `vault.pgpKeys[${i}]`, file })),
    ...(plan.rootTokenPgpKeyFile ? [{ field: 'vault.rootTokenPgpKey', file: plan.rootTokenPgpKeyFile }] : []),
  ];
  const read = await Promise.all(
    files.map(async (f) => {
      try {
        return { ...f, fingerprint: await fingerprintOf(f.file, at(f.field), now, memo) };
      } catch (err) {
        if (!isPlatctlError(err)) throw err;
        add(f.field, err.hint ? `${err.message} (${err.hint})` : err.message);
        return undefined;
      }
    }),
  );
  // One holder with two shares can unseal with fewer people than the threshold says.
  const seen = new Map<string, string>();
  for (const r of read) {
    if (!r || r.field === 'vault.rootTokenPgpKey') continue;
    const first = seen.get(r.fingerprint);
    if (first) add(r.field, `is the same key as ${at(first)} (${r.fingerprint}): one holder per share`);
    else seen.set(r.fingerprint, r.field);
  }
  return out;
}
