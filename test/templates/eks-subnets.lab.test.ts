/**
 * The subnet layout of templates/terraform/eks, evaluated by the lab's real OpenTofu (`tofu console`, which
 * needs no provider): the template's own `private_subnets` / `public_subnets` expressions, read with
 * hashicorp/hcl, never overlap and stay inside the VPC for every az_count the module allows. The layout the
 * template had before (public /24s at 48+i) is evaluated too, to show the check sees an overlap.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lab/config.js';
import { lab } from '../lab/env.js';
import { inspectModules } from './hcl-inspect.js';

const run = promisify(execFile);
const TEMPLATE = path.join(REPO_ROOT, 'templates', 'terraform', 'eks');

let dir: string;
let locals: Record<string, string>;

beforeAll(async () => {
  locals = (await inspectModules([TEMPLATE]))[TEMPLATE]?.locals ?? {};
  dir = mkdtempSync(path.join(tmpdir(), 'platctl-subnets-'));
}, 15 * 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Evaluates the two expressions with tofu for one VPC CIDR and zone count. */
async function layout(privateExpr: string, publicExpr: string, vpcCidr: string, azCount: number) {
  writeFileSync(
    path.join(dir, 'main.tf'),
    [
      'variable "vpc_cidr" { type = string }',
      'variable "az_count" { type = number }',
      `locals {\n  private_subnets = ${privateExpr}\n  public_subnets = ${publicExpr}\n}`,
    ].join('\n'),
  );
  const child = run(lab().bins.tofu, ['console', `-var=vpc_cidr=${vpcCidr}`, `-var=az_count=${azCount}`], {
    cwd: dir,
    env: { ...process.env, TF_IN_AUTOMATION: '1' },
  });
  child.child.stdin?.end('jsonencode([local.private_subnets, local.public_subnets])\n');
  const { stdout } = await child;
  const [priv, pub] = JSON.parse(JSON.parse(stdout.trim()) as string) as [string[], string[]];
  return { priv, pub };
}

/** [first, last] address of a CIDR as numbers. */
function range(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/');
  const start = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return [start, start + 2 ** (32 - Number(bits)) - 1];
}

/** Every pair of CIDRs that overlap, and every CIDR outside the VPC. */
function problems(vpc: string, cidrs: string[]): string[] {
  const out: string[] = [];
  const [vlo, vhi] = range(vpc);
  cidrs.forEach((a, i) => {
    const [alo, ahi] = range(a);
    if (alo < vlo || ahi > vhi) out.push(`${a} outside ${vpc}`);
    for (const b of cidrs.slice(i + 1)) {
      const [blo, bhi] = range(b);
      if (alo <= bhi && blo <= ahi) out.push(`${a} overlaps ${b}`);
    }
  });
  return out;
}

describe('subnet layout of the EKS template (tofu console)', () => {
  it.each([
    ['10.0.0.0/16', 16],
    ['172.20.0.0/18', 18],
    ['10.1.0.0/20', 20],
  ])('never overlaps for 2 to 6 zones in %s', async (vpc, bits) => {
    for (let az = 2; az <= 6; az++) {
      const { priv, pub } = await layout(locals.private_subnets ?? '', locals.public_subnets ?? '', vpc, az);
      expect(priv, `az_count ${az}`).toHaveLength(az);
      expect(pub, `az_count ${az}`).toHaveLength(az);
      expect(problems(vpc, [...priv, ...pub]), `az_count ${az}`).toEqual([]);
      for (const p of priv) expect(p.endsWith(`/${bits + 4}`)).toBe(true);
      for (const p of pub) expect(p.endsWith(`/${bits + 8}`)).toBe(true);
    }
  });

  it('sees the overlap of the old layout at four zones', async () => {
    const old = '[for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, 48 + i)]';
    const { priv, pub } = await layout(locals.private_subnets ?? '', old, '10.0.0.0/16', 4);
    expect(problems('10.0.0.0/16', [...priv, ...pub])).toContain('10.0.48.0/20 overlaps 10.0.48.0/24');
  });
});
