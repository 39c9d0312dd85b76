/**
 * Flux deploy keys, generated in process with node:crypto (no ssh-keygen, no temp files) and serialised in
 * OpenSSH's own formats: the `openssh-key-v1` private key container (unencrypted, as Flux reads it) and the
 * one-line public key. The fingerprint is the one `ssh-keygen -l` prints: SHA256 of the public key blob.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { PlatctlError } from '../errors.js';
import { registerSecret } from '../secrets.js';

/** The key types platctl generates (config `fleet.keyType`). */
export type DeployKeyType = 'ed25519' | 'ecdsa-p384';

/** A generated key pair. `privateKey` is registered with the secret masker before it is returned. */
export interface DeployKey {
  type: DeployKeyType;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, ending in a newline. Secret. */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment` (no trailing newline). */
  publicKey: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** SSH wire encoding: a uint32 big-endian length followed by the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** SSH mpint: big-endian two's complement, minimal, with a leading zero byte when the top bit is set. */
function sshMpint(data: Buffer): Buffer {
  let i = 0;
  while (i < data.length - 1 && data[i] === 0) i++;
  let bytes = data.subarray(i);
  if (bytes.length > 0 && ((bytes[0] ?? 0) & 0x80) !== 0) bytes = Buffer.concat([Buffer.alloc(1), bytes]);
  return sshString(bytes);
}

const b64url = (s: string | undefined): Buffer => {
  if (!s) throw new PlatctlError('INTERNAL', 'node:crypto returned a JWK without key material');
  return Buffer.from(s, 'base64url');
};

/** The public blob and the type-specific private fields of a fresh key pair. */
function freshKey(type: DeployKeyType): { sshType: string; blob: Buffer; privateFields: Buffer } {
  if (type === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const pub = b64url(publicKey.export({ format: 'jwk' }).x);
    const seed = b64url(jwk.d);
    const sshType = 'ssh-ed25519';
    const blob = Buffer.concat([sshString(sshType), sshString(pub)]);
    // OpenSSH stores ed25519 private keys as seed || public key (64 bytes).
    return { sshType, blob, privateFields: Buffer.concat([sshString(pub), sshString(Buffer.concat([seed, pub]))]) };
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), b64url(jwk.x), b64url(jwk.y)]);
  const sshType = 'ecdsa-sha2-nistp384';
  const blob = Buffer.concat([sshString(sshType), sshString('nistp384'), sshString(point)]);
  return {
    sshType,
    blob,
    privateFields: Buffer.concat([sshString('nistp384'), sshString(point), sshMpint(b64url(jwk.d))]),
  };
}

/** Wraps base64 at 70 columns, as ssh-keygen does. */
function wrap(text: string, width = 70): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join('\n');
}

/** The fingerprint `ssh-keygen -l` prints for a public key blob. */
export function fingerprintOfBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of a public key line (`ssh-ed25519 AAAA… comment`). */
export function fingerprintOf(publicKeyLine: string): string {
  const words = publicKeyLine.trim().split(/\s+/);
  const blob = words[1];
  if (!words[0] || !blob || !/^(ssh-|ecdsa-)/.test(words[0])) {
    throw new PlatctlError('INTERNAL', `not an ssh public key line: "${publicKeyLine.slice(0, 40)}"`);
  }
  return fingerprintOfBlob(Buffer.from(blob, 'base64'));
}

/**
 * Registers a private key with the masker in every shape it could leak in: the PEM itself, each of its
 * base64 lines, the body joined, and the base64 of the whole PEM (a Secret's `data.identity`).
 */
export function registerPrivateKey(privateKey: string | undefined): void {
  if (!privateKey) return;
  registerSecret(privateKey);
  registerSecret(Buffer.from(privateKey).toString('base64'));
  const body = privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));
  registerSecret(body.join(''));
  for (const line of body) registerSecret(line);
}

/** Generates a deploy key pair; `comment` ends up in both halves (it names the cluster on the git host). */
export function generateDeployKey(type: DeployKeyType = 'ed25519', comment = 'platctl'): DeployKey {
  const { sshType, blob, privateFields } = freshKey(type);
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString(sshType), privateFields, sshString(comment)]);
  // Pad to the cipher block size (8 for "none") with 1, 2, 3, … as OpenSSH expects.
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(section),
  ]);
  const privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(body.toString('base64'))}\n-----END OPENSSH PRIVATE KEY-----\n`;
  registerPrivateKey(privateKey);
  return {
    type,
    privateKey,
    publicKey: `${sshType} ${blob.toString('base64')} ${comment}`,
    fingerprint: fingerprintOfBlob(blob),
  };
}

/** The comment (and the deploy key title we suggest) for a cluster's key: unique per cluster. */
export function deployKeyTitle(cluster: string): string {
  return `platctl-flux-${cluster}`;
}
