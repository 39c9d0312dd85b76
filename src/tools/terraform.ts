/**
 * The Terraform/OpenTofu wrapper: finds the binary (config `terraform.binary`, or `tofu` then `terraform`),
 * checks its version, and runs init → plan → show → apply → output in the cluster's working directory (see
 * terraform-workdir.ts). Never interactive (-input=false); no secret ever in argv (backend settings and
 * variables go through files). Failures are translated by terraform-errors.ts.
 */
import path from 'node:path';
import type { Exec, ExecResult } from '../clients/exec.js';
import type { ClusterConfig } from '../config/schema.js';
import { isPlatctlError, PlatctlError } from '../errors.js';
import { clusterDir, packageRoot } from '../paths.js';
import { errorDiagnostics, terraformTranslators } from './terraform-errors.js';
import {
  type PlanSummary,
  progressLine,
  stepOutputsFrom,
  summarizePlan,
  type TerraformOutputs,
} from './terraform-plan.js';
import { BACKEND_CONFIG_FILE, prepareWorkdir, VAR_FILE, type Workdir } from './terraform-workdir.js';
import { failedResult, runTool } from './tool-errors.js';

/** The oldest release platctl accepts (the first OpenTofu; Terraform 1.6 added what the wrapper relies on). */
export const MIN_TERRAFORM_VERSION = '1.6.0';
/** The saved plan's file name inside the working dir. */
export const PLAN_FILE = 'platctl.tfplan';

/** A usable binary and its version. */
export interface TerraformBinary {
  binary: string;
  version: string;
}

/** True when dotted version `a` ≥ `b`. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.replace(/^v/, '').split(/[.-]/).map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (Number.isNaN(x)) return false;
    if (x !== y) return x > y;
  }
  return true;
}

/** Finds terraform or tofu (per the config's preference) and checks its version. */
export async function detectTerraform(exec: Exec, preference: 'auto' | 'terraform' | 'tofu'): Promise<TerraformBinary> {
  const candidates = preference === 'auto' ? ['tofu', 'terraform'] : [preference];
  for (const binary of candidates) {
    let r: ExecResult;
    try {
      r = await exec.run(binary, ['version', '-json'], { timeoutMs: 30_000, env: { CHECKPOINT_DISABLE: '1' } });
    } catch (err) {
      if (isPlatctlError(err) && err.code === 'TOOL_MISSING') continue;
      throw err;
    }
    const version = (JSON.parse(r.stdout) as { terraform_version?: string }).terraform_version ?? '0';
    if (!versionAtLeast(version, MIN_TERRAFORM_VERSION)) {
      throw new PlatctlError(
        'TOOL_MISSING',
        `${binary} ${version} is too old: platctl needs ${MIN_TERRAFORM_VERSION} or newer`,
        {
          hint: `install a newer ${binary}, or set terraform.binary in platform.yaml to the other one`,
        },
      );
    }
    return { binary, version };
  }
  throw new PlatctlError('TOOL_MISSING', `no ${candidates.join(' or ')} found on PATH`, {
    hint: 'install OpenTofu (tofu) or Terraform ≥ 1.6, or set terraform.binary in platform.yaml',
  });
}

/** The result of a plan. */
export interface PlanResult {
  /** False when terraform reported no changes (exit 0 with -detailed-exitcode). */
  changes: boolean;
  planFile: string;
  summary?: PlanSummary;
}

/** Options for {@link Terraform}. */
export interface TerraformOptions {
  exec: Exec;
  cluster: ClusterConfig;
  /** Working dir override (tests); default `clusterDir(cluster)/terraform`. */
  dir?: string;
  /** Extra environment for every terraform process. */
  env?: Record<string, string | undefined>;
}

/** True when apply failed because the saved plan no longer matches the state (plan again, then apply). */
export function isStalePlanError(err: unknown): boolean {
  const r = failedResult(err) ?? (err as { result?: ExecResult } | undefined)?.result;
  return Boolean(r && errorDiagnostics(r).some((d) => /saved plan is stale/i.test(d.summary)));
}

const inits = new Map<string, Promise<void>>();

/** Runs terraform/tofu for one cluster. Create with {@link createTerraform}. */
export class Terraform {
  private bin?: Promise<TerraformBinary>;
  private wd?: Promise<Workdir>;
  /** The last plan this instance made (a check's plan, reused by apply in the same run). */
  lastPlan?: PlanResult;

  constructor(private readonly o: TerraformOptions) {}

  /** The binary in use (detected once). */
  binary(): Promise<TerraformBinary> {
    this.bin ??= detectTerraform(this.o.exec, this.o.cluster.terraform.binary);
    return this.bin;
  }

  /** The prepared working dir (module copied, variables and backend written; once per instance). */
  workdir(): Promise<Workdir> {
    this.wd ??= prepareWorkdir(this.o.cluster, this.o.dir);
    return this.wd;
  }

  private env(): Record<string, string | undefined> {
    const aws = this.o.cluster.aws;
    return {
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      AWS_REGION: aws.region,
      ...(aws.profile ? { AWS_PROFILE: aws.profile } : {}),
      // Lets a module's local-exec helper (the lab module's moto stand-in) find platctl's node_modules.
      PLATCTL_PACKAGE_ROOT: packageRoot,
      PLATCTL_NODE: process.execPath,
      ...this.o.env,
    };
  }

  /** Runs one terraform command in the working dir, translating failures. */
  async run(
    args: string[],
    opts: { okExitCodes?: number[]; onLine?: (l: string) => void; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const [{ binary }, wd] = await Promise.all([this.binary(), this.workdir()]);
    return runTool(this.o.exec, binary, args, {
      ...opts,
      cwd: wd.dir,
      env: this.env(),
      what: `${binary} ${args[0]} (${wd.dir})`,
      translate: terraformTranslators({ binary, workdir: wd.dir, moduleDir: wd.moduleDir }),
    });
  }

  /** `init` with the generated backend settings; once per working dir, module and backend, per process. */
  async init(): Promise<void> {
    const wd = await this.workdir();
    const key = `${wd.dir}\0${wd.moduleHash}\0${JSON.stringify(this.o.cluster.terraform.backend)}`;
    let p = inits.get(key);
    if (!p) {
      p = this.run(['init', '-input=false', '-no-color', `-backend-config=${BACKEND_CONFIG_FILE}`], {
        timeoutMs: 15 * 60_000,
      }).then(() => undefined);
      p.catch(() => inits.delete(key));
      inits.set(key, p);
    }
    return p;
  }

  /** `plan -out … -detailed-exitcode`, then `show -json` for the summary when there are changes. */
  async plan(opts: { lock?: boolean; destroy?: boolean } = {}): Promise<PlanResult> {
    await this.init();
    const wd = await this.workdir();
    const args = [
      'plan',
      `-out=${PLAN_FILE}`,
      '-detailed-exitcode',
      '-input=false',
      '-no-color',
      '-json',
      `-var-file=${VAR_FILE}`,
    ];
    if (opts.lock === false) args.push('-lock=false');
    if (opts.destroy) args.push('-destroy');
    const r = await this.run(args, { okExitCodes: [2] });
    const planFile = path.join(wd.dir, PLAN_FILE);
    if (r.exitCode === 0) {
      this.lastPlan = { changes: false, planFile };
    } else {
      const shown = await this.run(['show', '-json', '-no-color', PLAN_FILE]);
      this.lastPlan = { changes: true, planFile, summary: summarizePlan(shown.stdout) };
    }
    return this.lastPlan;
  }

  /** Applies a saved plan, streaming "resource: action (elapsed)" lines to `progress`. */
  async apply(planFile: string, progress: (msg: string) => void): Promise<void> {
    await this.run(['apply', '-input=false', '-no-color', '-json', path.basename(planFile)], {
      onLine: (l) => {
        const p = progressLine(l);
        if (p) progress(p);
      },
    });
  }

  /** `output -json`, raw. */
  async rawOutputs(): Promise<TerraformOutputs> {
    await this.init();
    const r = await this.run(['output', '-json', '-no-color']);
    return JSON.parse(r.stdout || '{}') as TerraformOutputs;
  }

  /** `output -json` as step outputs (camelCase, no sensitive values). */
  async outputs(): Promise<ReturnType<typeof stepOutputsFrom>> {
    return stepOutputsFrom(await this.rawOutputs());
  }

  /** Where the state is, for messages: the backend type and, for the local backend, the working dir. */
  stateHint(): string {
    const b = this.o.cluster.terraform.backend;
    const dir = this.o.dir ?? path.join(clusterDir(this.o.cluster.name), 'terraform');
    return b.type === 'local' ? `the local state in ${dir}` : `the ${b.type} backend settings`;
  }

  /** `destroy -auto-approve`, streaming progress. The caller has already confirmed. */
  async destroy(progress: (msg: string) => void): Promise<void> {
    await this.init();
    await this.run(['destroy', '-auto-approve', '-input=false', '-no-color', '-json', `-var-file=${VAR_FILE}`], {
      onLine: (l) => {
        const p = progressLine(l);
        if (p) progress(p);
      },
    });
  }
}

/** Creates a {@link Terraform} for one cluster. */
export function createTerraform(opts: TerraformOptions): Terraform {
  return new Terraform(opts);
}
