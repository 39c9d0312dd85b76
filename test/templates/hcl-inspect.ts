/**
 * The EKS module's static conformance test reads Terraform HCL with hashicorp/hcl/v2 itself (the parser
 * Terraform and OpenTofu are built on), through a small Go tool, `test/lab/build/hcl-inspect`, built like the
 * lab's other Go parts (`go-build.sh`: module proxy, machine-wide build lock) and cached under
 * ~/.cache/platctl-lab/hcl-inspect-<hcl version>-<source hash>/.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, LAB_SRC } from '../lab/config.js';

const run = promisify(execFile);

/** The hashicorp/hcl/v2 release the tool is built with. */
export const HCL_VERSION = 'v2.24.0';
const SOURCE = join(LAB_SRC, 'build', 'hcl-inspect', 'main.go');

/** A cty type constraint as JSON: "string", ["list", T], ["map", T], ["object", {attr: T}, [optional…]], … */
export type CtyType = string | [string, ...unknown[]];

/** An argument's structure, as the tool reports it. */
export interface Shape {
  kind: 'object' | 'tuple' | 'expr';
  object?: Record<string, Shape>;
  tuple?: Shape[];
  expr?: string;
  /** The value, when the expression is a constant. */
  value?: unknown;
}

/** What the tool reports about one module directory. */
export interface ModuleInfo {
  requiredVersion: string[];
  requiredProviders: Record<string, { source: string; version: string }>;
  variables: Record<string, { type: CtyType | null; hasDefault: boolean }>;
  outputs: string[];
  moduleCalls: Record<string, { source: string; version: string; args: Record<string, Shape> }>;
  /** Every `module.<name>.<output>` referenced. */
  references: string[];
  /** Per variable, the attribute paths the module reads ("*" = an element of a map or list). */
  varReads: Record<string, string[][]>;
  /** Each local's source text. */
  locals: Record<string, string>;
  errors: string[];
}

/** The version the cache knows the tool by: the hcl release and a hash of the tool's source. */
export function hclInspectVersion(): string {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 10);
  return `${HCL_VERSION}-${hash}`;
}

/** The tool's binary, built first when the cache has none (minutes at most, behind other Go builds). */
export async function ensureHclInspect(): Promise<string> {
  const dir = join(cacheRoot(), `hcl-inspect-${hclInspectVersion()}`);
  const bin = join(dir, 'bin', 'hcl-inspect');
  if (existsSync(join(dir, '.complete'))) return bin;
  await run('bash', [join(LAB_SRC, 'build', 'go-build.sh'), 'hcl-inspect', hclInspectVersion()], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return bin;
}

/** Inspects module directories; the result is keyed by the directories as given. */
export async function inspectModules(dirs: string[]): Promise<Record<string, ModuleInfo>> {
  const bin = await ensureHclInspect();
  const { stdout } = await run(bin, dirs, { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, ModuleInfo>;
}
