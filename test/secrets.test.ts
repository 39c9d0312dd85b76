/**
 * The secret masker and the logger: registered values and secret-shaped text never reach a log line, and
 * log lines go to the given writer (stderr by default), never to stdout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogVerb } from '../src/log.js';
import { clearSecrets, maskSecrets, registerEnvironmentSecrets, registerSecret } from '../src/secrets.js';
import { memoryLogger } from './helpers/memory-logger.js';

afterEach(() => {
  clearSecrets();
  vi.restoreAllMocks();
});

describe('maskSecrets', () => {
  it('masks every occurrence of a registered value, and its trimmed form', () => {
    registerSecret('  s3cr3t-unseal-share  ');
    expect(maskSecrets('share "  s3cr3t-unseal-share  " and again s3cr3t-unseal-share.')).toBe(
      'share "****" and again ****.',
    );
  });

  it('ignores values too short to mask safely, and masks nothing before registering', () => {
    registerSecret('abc');
    registerSecret(undefined);
    registerSecret('');
    expect(maskSecrets('abc token-123456')).toBe('abc token-123456');
    registerSecret('token-123456');
    expect(maskSecrets('abc token-123456')).toBe('abc ****');
  });

  it('forgets everything on clearSecrets', () => {
    registerSecret('hvs.ABCDEFGHIJ');
    clearSecrets();
    expect(maskSecrets('hvs.ABCDEFGHIJ')).toBe('hvs.ABCDEFGHIJ');
  });

  it.each([
    ['RSA', 'RSA PRIVATE KEY'],
    ['PKCS#8', 'PRIVATE KEY'],
    ['EC', 'EC PRIVATE KEY'],
    ['OpenSSH', 'OPENSSH PRIVATE KEY'],
    ['PGP', 'PGP PRIVATE KEY BLOCK'],
  ])('masks a %s private key block by shape, keeping the armour lines', (_what, label) => {
    const body = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAI';
    const text = `before\n-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\nafter`;
    const out = maskSecrets(text);
    expect(out).toBe(`before\n-----BEGIN ${label}-----\n****\n-----END ${label}-----\nafter`);
  });

  it('leaves public keys and certificates alone', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----';
    const pub = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----';
    expect(maskSecrets(cert)).toBe(cert);
    expect(maskSecrets(pub)).toBe(pub);
  });

  it('masks EKS bearer tokens', () => {
    const token = `k8s-aws-v1.${'aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u'.repeat(3)}`;
    expect(maskSecrets(`Authorization: Bearer ${token}`)).toBe('Authorization: Bearer k8s-aws-v1.****');
  });

  it.each([
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = ****'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY=****'],
    ['secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'secretAccessKey: ****'],
  ])('masks an AWS secret assignment: %s', (text, want) => {
    expect(maskSecrets(text)).toBe(want);
  });

  /*
   * regression (mask-json-secret): the AWS-secret pattern expects ":" or "=" right after the key name, so a quoted
   * JSON key ("secretAccessKey": "…") and the STS/credential_process spelling ("SecretAccessKey") slip through.
   */
  it.each([
    ['{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', '{"secretAccessKey": "****"}'],
    ['{"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', '{"SecretAccessKey":"****"}'],
  ])('regression (mask-json-secret): masks an AWS secret in JSON: %s', (text, want) => {
    expect(maskSecrets(text)).toBe(want);
  });

  it('registers the AWS and Vault secrets from the environment', () => {
    registerEnvironmentSecrets({
      AWS_SECRET_ACCESS_KEY: 'env-secret-key-1',
      VAULT_TOKEN: 'hvs.env-token',
      HOME: '/root',
    });
    expect(maskSecrets('env-secret-key-1 hvs.env-token /root')).toBe('**** **** /root');
  });
});

describe('logger', () => {
  const verbs: Array<[LogVerb, string]> = [
    ['action', '►'],
    ['created', '✚'],
    ['waiting', '◎'],
    ['success', '✔'],
    ['warning', '⚠'],
    ['failure', '✗'],
  ];

  it('writes flux-verb lines to the given writer and nothing to stdout', () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    for (const [verb] of verbs) log[verb](`${verb} message`);
    expect(lines).toEqual(verbs.map(([verb, symbol]) => `${symbol} ${verb} message`));
    expect(stdout).not.toHaveBeenCalled();
  });

  it('defaults to stderr, never stdout', () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    createLogger().success('done');
    expect(stderr).toHaveBeenCalledWith('✔ done\n');
    expect(stdout).not.toHaveBeenCalled();
  });

  it('masks secrets in every line', () => {
    registerSecret('very-secret-token');
    const log = memoryLogger();
    log.failure('login with very-secret-token failed');
    expect(log.lines).toEqual(['✗ login with **** failed']);
  });

  it('shows debug lines only with debug, and only warnings and failures when quiet', () => {
    const lines: string[] = [];
    const write = (l: string) => lines.push(l);
    createLogger({ write }).debug('hidden');
    createLogger({ write, debug: true }).debug('shown');
    const quiet = createLogger({ write, quiet: true });
    quiet.success('hidden');
    quiet.info('hidden');
    quiet.warning('careful');
    quiet.failure('broken');
    expect(lines).toEqual(['· shown', '⚠ careful', '✗ broken']);
  });

  it('colours only when asked', () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l), colour: true }).success('ok');
    createLogger({ write: (l) => lines.push(l), colour: false }).success('ok');
    expect(lines[0]).toBe('\u001b[32m✔ ok\u001b[0m');
    expect(lines[1]).toBe('✔ ok');
  });
});
