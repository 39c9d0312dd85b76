/**
 * PGP public keys for `vault init`: Vault encrypts each unseal/recovery share and the root token to one of these
 * keys, so platctl only ever handles ciphertext. A key file is read (armored, binary, or base64 of binary as
 * `gpg --export | base64` writes it) and must be ONE public key that can encrypt now: not private, not revoked,
 * not expired. Errors name the file and never echo its content.
 */
import { readFile } from 'node:fs/promises';
import type { Key, Subkey } from 'openpgp';
import { PlatctlError } from '../errors.js';

/** A validated public key, ready for `PUT /v1/sys/init`. */
export interface PgpPublicKey {
  /** The file it came from (for messages). */
  file: string;
  /** Upper-case hex fingerprint of the primary key. */
  fingerprint: string;
  /** Base64 of the binary public key: the form Vault's `pgp_keys` expects. */
  base64: string;
  /** The key's user ids ("Alice <alice@example.com>"), for showing who holds which share. */
  userIds: string[];
  /** When the key, or the subkey Vault would encrypt to, expires (undefined: never). */
  validUntil?: Date;
}

const privateArmor = /-----BEGIN PGP PRIVATE KEY BLOCK-----/;
const publicArmor = /-----BEGIN PGP PUBLIC KEY BLOCK-----/;
const base64Text = /^[A-Za-z0-9+/=\s]+$/;

/** An input error naming the file; never carries the file's content. */
function bad(file: string, problem: string, hint?: string): PlatctlError {
  return new PlatctlError('USAGE', `PGP key ${file}: ${problem}`, {
    hint: hint ?? 'pass one exported public key per file (`gpg --export --armor <id> > key.asc`)',
  });
}

/** True when binary OpenPGP data starts with a secret-key packet (tag 5), in old or new packet format. */
function startsWithSecretKeyPacket(bytes: Uint8Array): boolean {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return false;
  const tag = first & 0x40 ? first & 0x3f : (first >> 2) & 0x0f;
  return tag === 5;
}

async function parseKeys(file: string, bytes: Uint8Array): Promise<Key[]> {
  const openpgp = await import('openpgp');
  const text = Buffer.from(bytes).toString('utf8');
  const privateRefusal = () =>
    bad(
      file,
      'is a PRIVATE key; refusing it (its content is not shown)',
      'pass the public half only: `gpg --export --armor <id>`, never --export-secret-keys; and keep the private key away from this machine',
    );
  if (privateArmor.test(text)) throw privateRefusal();
  try {
    if (publicArmor.test(text)) return await openpgp.readKeys({ armoredKeys: text });
    let binary = bytes;
    // `gpg --export | base64` (the form `vault operator init -pgp-keys` accepts).
    if (base64Text.test(text) && text.trim().length > 0) binary = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    if (startsWithSecretKeyPacket(binary)) throw privateRefusal();
    return await openpgp.readKeys({ binaryKeys: binary });
  } catch (err) {
    if (err instanceof PlatctlError) throw err;
    // openpgp's parse errors describe packets, not content; still, keep the cause out of the message.
    throw bad(file, 'is not an OpenPGP public key (armored or binary)');
  }
}

/** Validates one parsed key; `now` is when it must be usable. */
async function validate(file: string, key: Key, now: Date): Promise<PgpPublicKey> {
  if (key.isPrivate()) {
    throw bad(
      file,
      'is a PRIVATE key; refusing it (its content is not shown)',
      'pass the public half only: `gpg --export --armor <id>`',
    );
  }
  const fingerprint = key.getFingerprint().toUpperCase();
  if (await key.isRevoked(undefined, undefined, now)) {
    throw bad(file, `key ${fingerprint} is revoked`, 'ask its holder for a current public key');
  }
  const expires = await key.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    throw bad(
      file,
      `key ${fingerprint} expired on ${expires.toISOString()}`,
      'ask its holder to extend the expiry (`gpg --quick-set-expire`) and export it again',
    );
  }
  let encryption: Awaited<ReturnType<Key['getEncryptionKey']>>;
  try {
    encryption = await key.getEncryptionKey(undefined, now);
  } catch {
    throw bad(
      file,
      `key ${fingerprint} cannot encrypt (no valid encryption subkey: a signing-only key?)`,
      'use a key with an encryption subkey (gpg --quick-add-key <fpr> cv25519 encr)',
    );
  }
  const userIds = key.getUserIDs();
  const ends = [expires, encryption === key ? null : await (encryption as Subkey).getExpirationTime(now)]
    .filter((d): d is Date => d instanceof Date)
    .map((d) => d.getTime());
  const validUntil = ends.length > 0 ? new Date(Math.min(...ends)) : undefined;
  return { file, fingerprint, base64: Buffer.from(key.toPublic().write()).toString('base64'), userIds, validUntil };
}

/** Options for {@link readPgpPublicKey}. */
export interface ReadPgpOptions {
  /** When the key must be usable (default: now). */
  now?: Date;
  /** Where the path came from, for the hint of an unreadable file: `vault.rootTokenPgpKey or --root-token-pgp-key`. */
  from?: string;
}

/** Reads and validates one PGP public key file. Throws USAGE errors naming the file. */
export async function readPgpPublicKey(file: string, opts: ReadPgpOptions = {}): Promise<PgpPublicKey> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw bad(file, `cannot read the file (${code})`, opts.from ? `check the path in ${opts.from}` : 'check the path');
  }
  const keys = await parseKeys(file, bytes);
  if (keys.length === 0) throw bad(file, 'holds no OpenPGP key');
  if (keys.length > 1) throw bad(file, `holds ${keys.length} keys; put exactly one public key in each file`);
  return validate(file, keys[0] as Key, opts.now ?? new Date());
}

/** Reads several key files in order; the first bad one throws. */
export async function readPgpPublicKeys(files: readonly string[], opts: ReadPgpOptions = {}): Promise<PgpPublicKey[]> {
  const out: PgpPublicKey[] = [];
  for (const f of files) out.push(await readPgpPublicKey(f, opts));
  return out;
}

/** True when the base64 text decodes to an OpenPGP message (Vault returned ciphertext, not a plaintext share). */
export async function isPgpMessage(base64: string): Promise<boolean> {
  const openpgp = await import('openpgp');
  try {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length === 0) return false;
    const msg = await openpgp.readMessage({ binaryMessage: new Uint8Array(bytes) });
    return msg.getEncryptionKeyIDs().length > 0;
  } catch {
    return false;
  }
}
