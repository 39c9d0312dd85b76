/**
 * `platctl init`: an interactive wizard that writes a validated platform.yaml. Without a terminal it refuses
 * and points at the example files and `platctl config schema`.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { createPrompter } from '../clients/prompt.js';
import { validateConfig } from '../config/load.js';
import { clusterNamePattern } from '../config/schema.js';
import { isValidCidr, isValidRegion } from '../config/validators.js';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { createLogger } from '../log.js';

/** Asks for the essentials, validates them with the same schema `bootstrap` uses, and writes the file. */
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
  const ask = createPrompter({ yes: false, interactive });
  const check = (ok: (v: string) => boolean, msg: string) => (v: string) => (ok(v) ? true : msg);
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
  const fleet = await ask.input('Fleet repo (ssh URL)', { default: `ssh://git@github.com/acme/fleet.git` });
  const raw = {
    $schema: 'https://raw.githubusercontent.com/platctl/platctl/main/docs/platform.schema.json',
    clusters: [
      {
        name,
        aws: { accountId, region },
        kubernetes: { version },
        terraform: { vpcCidr },
        fleet: { url: fleet },
      },
    ],
  };
  validateConfig(raw, 'the answers');
  await writeFileAtomic(opts.config, `# yaml-language-server: $schema=${raw.$schema}\n${stringify(raw)}`);
  log.success(`wrote ${opts.config}; next: platctl bootstrap ${name} --dry-run`);
  return 0;
}
