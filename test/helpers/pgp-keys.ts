/**
 * Test PGP keys, generated with openpgp in the test (the TEST holds the private keys, never platctl): good keys,
 * an expired one, a revoked one, a signing-only one, and a private key file passed by mistake. Plus the decrypt
 * helper a key holder would use on a share (`base64 -d | gpg -d`).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';

/** A generated key pair written to disk: the public file is what platctl gets. */
export interface TestKey {
  name: string;
  /** Armored public key file. */
  publicFile: string;
  /** Armored private key (stays in the test). */
  privateArmored: string;
  fingerprint: string;
}

type Kind = 'good' | 'binary' | 'expired' | 'revoked' | 'sign-only';

/** Generates one key of the given kind and writes its public half to `<dir>/<name>.asc` (or .gpg for binary). */
export async function makeKey(dir: string, name: string, kind: Kind = 'good'): Promise<TestKey> {
  const base = {
    userIDs: [{ name, email: `${name}@example.test` }],
    type: 'ecc' as const,
    curve: 'curve25519Legacy' as const,
  };
  const options =
    kind === 'expired'
      ? // Created two days ago with a one-hour lifetime: validly signed, but expired now.
        { ...base, date: new Date(Date.now() - 2 * 86_400_000), keyExpirationTime: 3600 }
      : kind === 'sign-only'
        ? { ...base, subkeys: [] }
        : base;
  const { privateKey, publicKey } = await openpgp.generateKey({ ...options, format: 'armored' });
  let pub: string | Uint8Array = publicKey;
  if (kind === 'revoked') {
    const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
    pub = (await openpgp.revokeKey({ key, format: 'armored' })).publicKey;
  }
  const parsed = await openpgp.readKey({ armoredKey: publicKey });
  if (kind === 'binary') pub = parsed.write();
  const publicFile = path.join(dir, `${name}.${kind === 'binary' ? 'gpg' : 'asc'}`);
  await writeFile(publicFile, pub);
  return { name, publicFile, privateArmored: privateKey, fingerprint: parsed.getFingerprint().toUpperCase() };
}

/** Generates `n` good keys named prefix-0..n-1. */
export async function makeKeys(dir: string, prefix: string, n: number): Promise<TestKey[]> {
  const out: TestKey[] = [];
  for (let i = 0; i < n; i++) out.push(await makeKey(dir, `${prefix}-${i}`));
  return out;
}

/** Writes a private key file (armored) as a user might pass by mistake; returns its path and content. */
export async function writePrivateKeyFile(dir: string, key: TestKey): Promise<{ file: string; content: string }> {
  const file = path.join(dir, `${key.name}-private.asc`);
  await writeFile(file, key.privateArmored);
  return { file, content: key.privateArmored };
}

/** Decrypts one base64 PGP message from Vault's init output with the holder's private key; returns the text. */
export async function decryptBase64(base64: string, key: TestKey): Promise<string> {
  const privateKey = await openpgp.readPrivateKey({ armoredKey: key.privateArmored });
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(base64, 'base64')) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data as Uint8Array).toString('utf8');
}
