/**
 * The secret masker. Values registered here (a generated private key, a token, AWS secret keys from the
 * environment) are replaced by `****` in every line platctl prints, and private-key blocks are masked by shape.
 */

const registered = new Set<string>();

const pemBlock = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----[\s\S]*?-----END \1-----/g;
const awsSecretInText = /(aws_secret_access_key|secret_?access_?key)(["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{16,}/gi;
const eksToken = /k8s-aws-v1\.[A-Za-z0-9_-]{20,}/g;

/** Registers a secret value so it is masked wherever it would be printed. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 6) return;
  registered.add(value);
  const trimmed = value.trim();
  if (trimmed !== value && trimmed.length >= 6) registered.add(trimmed);
}

/** Registers the secrets platctl can see in its own environment (AWS keys, session tokens, Vault tokens). */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'VAULT_TOKEN', 'GITHUB_TOKEN']) {
    registerSecret(env[name]);
  }
}

/** Returns text with every registered secret and every private-key-shaped block masked. */
export function maskSecrets(text: string): string {
  let out = text.replace(pemBlock, '-----BEGIN $1-----\n****\n-----END $1-----');
  out = out.replace(awsSecretInText, '$1$2****').replace(eksToken, 'k8s-aws-v1.****');
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('****');
  }
  return out;
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  registered.clear();
}
