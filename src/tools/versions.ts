/**
 * The external tools platctl runs, the oldest version of each it works with, and which steps need them. One
 * table for `platctl doctor` (every tool) and bootstrap's preflight (the tools the selected steps need).
 */
import type { Exec } from '../clients/exec.js';
import type { ClusterConfig } from '../config/schema.js';
import { describeError } from '../errors.js';

/** One tool: how to find it and read its version. */
export interface ToolSpec {
  name: string;
  /** Binaries tried in order; the first one found is used. */
  candidates: string[];
  args: string[];
  /** Captures major and minor (and patch) from the output; a tool without a version has a never-matching one. */
  pattern: RegExp;
  min?: [number, number];
  /** The steps that run it. */
  steps: string[];
}

/** What probing a tool found. */
export interface ToolProbe {
  name: string;
  ok: boolean;
  /** "tofu v1.10.10", "not found on PATH (tofu or terraform)", "helm v3.10.0 (need ≥ 3.12)". */
  detail: string;
}

/** The tool table for a cluster (terraform.binary decides which Terraform is asked for). */
export function toolSpecs(cluster?: Pick<ClusterConfig, 'terraform' | 'fleet'>): ToolSpec[] {
  const binary = cluster?.terraform.binary ?? 'auto';
  return [
    {
      name: 'terraform/tofu',
      candidates: binary === 'auto' ? ['tofu', 'terraform'] : [binary],
      args: ['version'],
      pattern: /v(\d+)\.(\d+)\.(\d+)/,
      min: [1, 6],
      steps: ['cluster'],
    },
    {
      name: 'helm',
      candidates: ['helm'],
      args: ['version', '--short'],
      pattern: /v(\d+)\.(\d+)\.(\d+)/,
      min: [3, 12],
      steps: ['istio', 'vault'],
    },
    {
      name: 'git',
      candidates: ['git'],
      args: ['--version'],
      pattern: /(\d+)\.(\d+)\.(\d+)/,
      min: [2, 30],
      steps: ['flux-secret', 'flux'],
    },
    {
      name: 'ssh',
      candidates: ['ssh'],
      args: ['-V'],
      pattern: /OpenSSH_(\d+)\.(\d+)/,
      min: [7, 6],
      steps: ['flux-secret', 'flux'],
    },
    // Only when fleet.knownHosts is not given: then the host keys are scanned.
    {
      name: 'ssh-keyscan',
      candidates: ['ssh-keyscan'],
      args: ['-h'],
      pattern: /$^/,
      steps: cluster?.fleet.knownHosts ? [] : ['flux-secret'],
    },
  ];
}

/** Finds one tool on PATH and checks its version (each probe is bounded: a hung binary is a failed probe). */
export async function probeTool(exec: Exec, t: ToolSpec, timeoutMs = 10_000): Promise<ToolProbe> {
  for (const bin of t.candidates) {
    try {
      const r = await exec.run(bin, t.args, { okExitCodes: [0, 1], timeoutMs });
      const m = t.pattern.exec(`${r.stdout}\n${r.stderr}`);
      if (!m) return { name: t.name, ok: true, detail: `${bin} found` };
      const [maj, min] = [Number(m[1]), Number(m[2])];
      const ok = !t.min || maj > t.min[0] || (maj === t.min[0] && min >= t.min[1]);
      const need = t.min ? ` (need ≥ ${t.min.join('.')})` : '';
      return { name: t.name, ok, detail: `${bin} ${m[0]}${ok ? '' : need}` };
    } catch (err) {
      if (describeError(err).includes('not installed')) continue;
      return { name: t.name, ok: false, detail: describeError(err) };
    }
  }
  return { name: t.name, ok: false, detail: `not found on PATH (${t.candidates.join(' or ')})` };
}
