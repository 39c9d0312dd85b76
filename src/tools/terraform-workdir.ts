/**
 * The per-cluster terraform working directory (`~/.platctl/<cluster>/terraform`): a copy of the module plus
 * the files platctl generates from the config — the variables file and the backend. Terraform's own files
 * (.terraform/, the lock file, local state) live beside the copy and survive re-copies.
 */
import { createHash } from 'node:crypto';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { platctlTags } from '../aws/tags.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { clusterDir } from '../paths.js';

/** The generated variables file (JSON, 0600: user variables may be sensitive). */
export const VAR_FILE = 'platctl.tfvars.json';
/** The generated backend settings, passed with -backend-config (never in argv). */
export const BACKEND_CONFIG_FILE = 'platctl.tfbackend';
const MANIFEST = '.platctl-module.json';

/** A prepared working directory. */
export interface Workdir {
  dir: string;
  /** Where the module was copied from (for messages: diagnostics point here). */
  moduleDir: string;
  /** sha256 of the module's files (paths and contents). */
  moduleHash: string;
}

const skipDir = new Set(['.terraform', 'node_modules', '.git']);
const skipFile = (name: string) =>
  /\.tfstate(\.backup)?$/.test(name) || name.endsWith('.tfplan') || name === '.terraform.tfstate.lock.info';

/** Relative paths of the module's files, sorted (terraform's own runtime files skipped). Sync: step inputs need it. */
export function moduleFiles(moduleDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(moduleDir, rel), { withFileTypes: true });
    } catch (err) {
      throw new PlatctlError('CONFIG_INVALID', `terraform module ${moduleDir} cannot be read`, {
        cause: err,
        hint: 'set terraform.module to a directory holding the module (*.tf files)',
      });
    }
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !skipDir.has(e.name)) walk(p);
      else if (e.isFile() && !skipFile(e.name)) out.push(p);
    }
  };
  walk('');
  if (!out.some((f) => f.endsWith('.tf'))) {
    throw new PlatctlError('CONFIG_INVALID', `terraform module ${moduleDir} has no *.tf files`, {
      hint: 'set terraform.module to a directory holding the module',
    });
  }
  return out.sort();
}

/** A content hash of the module: changes when any file is added, removed or edited. */
export function moduleHash(moduleDir: string): string {
  const h = createHash('sha256');
  for (const f of moduleFiles(moduleDir)) {
    h.update(`${f}\0`);
    h.update(readFileSync(path.join(moduleDir, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** The variables platctl passes: the config's terraform.variables, then the values platctl owns. */
export function terraformVariables(cluster: ClusterConfig): Record<string, unknown> {
  return {
    ...cluster.terraform.variables,
    cluster_name: cluster.name,
    region: cluster.aws.region,
    kubernetes_version: cluster.kubernetes.version,
    vpc_cidr: cluster.terraform.vpcCidr,
    tags: platctlTags(cluster, 'cluster'),
  };
}

/** HCL for the backend settings file: `key = value` lines. */
export function backendConfigHcl(config: Record<string, string | number | boolean>): string {
  return Object.entries(config)
    .map(([k, v]) => `${k} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

async function declaresBackend(dir: string, files: string[]): Promise<boolean> {
  for (const f of files.filter((x) => x.endsWith('.tf') && !x.includes('/'))) {
    if (/^\s*backend\s+"/m.test(await readFile(path.join(dir, f), 'utf8'))) return true;
  }
  return false;
}

/** Writes a file only when its content differs (keeps mtimes stable, and terraform's view of them). */
async function syncFile(file: string, data: Buffer | string, mode: number): Promise<void> {
  try {
    const old = await readFile(file);
    if (old.equals(Buffer.from(data))) return;
  } catch {
    // absent: write it
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, data, mode);
}

/**
 * Copies the module into the cluster's working dir (removing files a previous copy left that the module no
 * longer has) and writes the variables and backend files. Returns the prepared dir.
 */
export async function prepareWorkdir(cluster: ClusterConfig, dir?: string): Promise<Workdir> {
  const workdir = dir ?? path.join(clusterDir(cluster.name), 'terraform');
  const moduleDir = cluster.terraform.module;
  const files = moduleFiles(moduleDir);
  await mkdir(workdir, { recursive: true, mode: 0o700 });
  let previous: string[] = [];
  try {
    previous = JSON.parse(await readFile(path.join(workdir, MANIFEST), 'utf8')) as string[];
  } catch {
    // first copy
  }
  for (const stale of previous.filter((f) => !files.includes(f))) await rm(path.join(workdir, stale), { force: true });
  for (const f of files) {
    const src = path.join(moduleDir, f);
    await syncFile(path.join(workdir, f), await readFile(src), (await stat(src)).mode & 0o777);
  }
  // The backend block: an override when the module declares its own backend, else a plain file adding one.
  const backend = cluster.terraform.backend;
  const override = await declaresBackend(moduleDir, files);
  const backendTf = override ? 'platctl_backend_override.tf' : 'platctl_backend.tf';
  await rm(path.join(workdir, override ? 'platctl_backend.tf' : 'platctl_backend_override.tf'), { force: true });
  await syncFile(path.join(workdir, backendTf), `terraform {\n  backend "${backend.type}" {}\n}\n`, 0o644);
  await syncFile(path.join(workdir, BACKEND_CONFIG_FILE), `${backendConfigHcl(backend.config)}\n`, 0o600);
  await syncFile(path.join(workdir, VAR_FILE), `${JSON.stringify(terraformVariables(cluster), null, 2)}\n`, 0o600);
  await writeFile(path.join(workdir, MANIFEST), JSON.stringify(files));
  return { dir: workdir, moduleDir, moduleHash: moduleHash(moduleDir) };
}
