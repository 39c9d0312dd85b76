/** Spawning a real platctl process against the lab: from source under tsx, or the built CLI. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import type { LabEnv } from '../lab/env.js';
import { labProcessEnv } from '../lab/env.js';
import { platctlBin } from './built-cli.js';
import { labRawCluster } from './lab-cluster.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(root, 'test', 'helpers', 'platctl-entry.ts');

/** A sandbox for one test: its own PLATCTL_HOME, working dir and config file. */
export interface Sandbox {
  dir: string;
  home: string;
  config: string;
  env: Record<string, string>;
}

/** Creates a sandbox whose platform.yaml points at the lab (kubeconfig access, moto account). */
export function sandbox(lab: LabEnv, cluster: string, extra: Record<string, unknown> = {}): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), `platctl-${cluster}-`));
  const home = path.join(dir, 'home');
  const config = path.join(dir, 'platform.yaml');
  writeFileSync(config, stringify({ clusters: [labRawCluster(lab, cluster, extra)] }));
  const env = { ...labProcessEnv(lab), PLATCTL_HOME: home, PLATCTL_TEST_DIR: dir, CI: 'true', NO_COLOR: '1' };
  return { dir, home, config, env };
}

/** Starts `platctl <args>`; await it for the result (never rejects on a non-zero exit). */
export function platctl(args: string[], env: Record<string, string>): ResultPromise<{ reject: false; all: true }> {
  return spawnCli(['--import', 'tsx', entry, ...args], env);
}

function spawnCli(nodeArgs: string[], env: Record<string, string>): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, nodeArgs, {
    cwd: root,
    env: { ...process.env, ...env },
    reject: false,
    all: true,
    stdin: 'ignore',
  }) as unknown as ResultPromise<{ reject: false; all: true }>;
}

/**
 * Starts the built CLI (`bin/platctl`, as users run it; call `ensureBuiltCli()` in a beforeAll first) like
 * {@link platctl}. About 0.4 s of CPU per process instead of tsx's 1 s: for files that spawn dozens of them. A
 * PLATCTL_TEST_STEPS module may still be TypeScript: Node 24 strips its types (type-only imports of src/ only).
 */
export function builtPlatctl(args: string[], env: Record<string, string>): ResultPromise<{ reject: false; all: true }> {
  return spawnCli([platctlBin, ...args], env);
}
