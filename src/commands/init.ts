/**
 * `platctl init`: an interactive wizard that writes a validated platform.yaml. Without a terminal it refuses
 * and points at the example files and `platctl config schema`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { createPrompter, type Prompter } from '../clients/prompt.js';
import { validateConfig } from '../config/load.js';
import { clusterNamePattern } from '../config/schema.js';
import { isValidCidr, isValidRegion } from '../config/validators.js';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { createLogger } from '../log.js';
import { packageRoot } from '../paths.js';
import { askFleet } from './init-fleet.js';

const check = (ok: (v: string) => boolean, msg: string) => (v: string) => (ok(v) ? true : msg);
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Asks for the essentials (cluster, AWS, network, fleet repo and its git host, Vault's key holders) and returns
 * platform.yaml's text, validated with the same schema `bootstrap` uses, and the token variable the git host
 * needs (if any). `configFile` places the `$schema` reference.
 */
export async function askPlatformConfig(
  ask: Prompter,
  configFile: string,
): Promise<{ name: string; text: string; tokenVar?: string }> {
  const name = await ask.input('Cluster name', {
    validate: check((v) => v.length <= 100 && clusterNamePattern.test(v), 'letters, digits, - and _; ≤ 100 chars'),
  });
  const accountId = await ask.input('AWS account id', { validate: check((v) => /^\d{12}$/.test(v), '12 digits') });
  const region = await ask.input('AWS region', {
    default: 'us-east-1',
    validate: check(isValidRegion, 'an AWS region'),
  });
  const version = await ask.input('Kubernetes version', { default: '1.34' });
  const vpcCidr = await ask.input('VPC CIDR', { default: '10.0.0.0/16', validate: check(isValidCidr, 'an IPv4 CIDR') });
  const fleet = await askFleet(ask);
  const shares = Number(
    await ask.input('Vault unseal/recovery key shares', {
      default: '3',
      validate: check((v) => /^[1-9]\d?$/.test(v), 'a number from 1 to 99'),
    }),
  );
  const threshold = Number(
    await ask.input('Shares needed to unseal (threshold)', {
      default: String(Math.min(2, shares)),
      validate: check((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= shares, `1 to ${shares}`),
    }),
  );
  // Vault's init output is only ever PGP-encrypted: one public key per share holder, and one for the root token.
  const pgpKeys = list(
    await ask.input(`PGP public key files of the ${shares} share holders (comma-separated)`, {
      validate: check((v) => list(v).length === shares, `exactly ${shares} files, one per share`),
    }),
  );
  const rootTokenPgpKey = await ask.input('PGP public key file for the root token', {
    validate: check((v) => v.trim().length > 0, 'a file path'),
  });
  const schema = path.relative(
    path.dirname(path.resolve(configFile)),
    path.join(packageRoot, 'docs', 'platform.schema.json'),
  );
  const raw = {
    $schema: schema,
    clusters: [
      {
        name,
        aws: { accountId, region },
        kubernetes: { version },
        terraform: { vpcCidr },
        fleet: fleet.fleet,
        ...(fleet.webhook ? { flux: { webhook: fleet.webhook } } : {}),
        vault: { keyShares: shares, keyThreshold: threshold, pgpKeys, rootTokenPgpKey: rootTokenPgpKey.trim() },
      },
    ],
  };
  validateConfig(raw, 'the answers');
  return { name, text: `# yaml-language-server: $schema=${schema}\n${stringify(raw)}`, tokenVar: fleet.tokenVar };
}

/** The `init` command: refuses without a terminal or over an existing file, then asks and writes. */
export default async function init(opts: { config: string; force?: boolean }, cmd: Command) {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  if (!interactive) {
    throw new PlatctlError('NO_TTY', 'platctl init is interactive and needs a terminal', {
      hint: 'copy examples/aws/platform.yaml (or examples/lab/platform.yaml) and edit it; `platctl config schema` prints every field',
    });
  }
  if (existsSync(opts.config) && !opts.force) {
    throw new PlatctlError('USAGE', `${opts.config} already exists`, { hint: 'pass --force to overwrite it' });
  }
  const log = createLogger({ debug: Boolean(cmd.optsWithGlobals().debug) });
  const { name, text, tokenVar } = await askPlatformConfig(createPrompter({ yes: false, interactive }), opts.config);
  await writeFileAtomic(opts.config, text);
  log.success(`wrote ${opts.config}; next: platctl bootstrap ${name} --dry-run`);
  // The token never goes into the file: say where platctl will look for it.
  if (tokenVar)
    log.info(
      `export ${tokenVar} (a token with admin rights on the fleet repository) before bootstrap; platctl reads it from the environment only`,
    );
  return 0;
}
