/**
 * Static conformance of templates/terraform/eks against the exact upstream module versions it pins
 * (../shared/fixtures/terraform): the providers cannot be downloaded here, so `plan` cannot run; what can be
 * proven from the sources is proven here (docs/steps/cluster.md says what is left to a real account).
 * The HCL is read by hashicorp/hcl/v2 (test/templates/hcl-inspect.ts).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO_ROOT, VERSIONS } from '../lab/config.js';
import { inspectModules } from './hcl-inspect.js';
import {
  checkArguments,
  checkNestedKeys,
  checkOutputs,
  providerConstraints,
  resolveSource,
  type TreeNode,
} from './module-conformance.js';
import { allows, intersect, parseVersion } from './version-constraints.js';

const TEMPLATE = path.join(REPO_ROOT, 'templates', 'terraform', 'eks');
const TF_FIXTURES = path.join(FIXTURES, 'terraform');
/** Building the tool can wait behind another Go build on this machine. */
const BUILD_TIMEOUT = 15 * 60_000;

/** Reads the module tree rooted at `root`: every module it calls, transitively, from local paths or fixtures. */
async function readTree(root: string): Promise<Map<string, TreeNode>> {
  const tree = new Map<string, TreeNode>();
  let pending = [root];
  while (pending.length > 0) {
    const infos = await inspectModules(pending);
    const next: string[] = [];
    for (const dir of pending) {
      const info = infos[dir];
      if (!info) throw new Error(`hcl-inspect said nothing about ${dir}`);
      if (info.errors.length) throw new Error(`${dir}: ${info.errors.join('; ')}`);
      const calls: Record<string, string> = {};
      for (const [name, c] of Object.entries(info.moduleCalls)) {
        calls[name] = resolveSource(dir, c.source, c.version, TF_FIXTURES);
        if (!tree.has(calls[name]) && !pending.includes(calls[name]) && !next.includes(calls[name]))
          next.push(calls[name]);
      }
      tree.set(dir, { dir, info, calls });
    }
    pending = next;
  }
  return tree;
}

let tree: Map<string, TreeNode>;
let root: TreeNode;

beforeAll(async () => {
  tree = await readTree(TEMPLATE);
  root = tree.get(TEMPLATE) as TreeNode;
}, BUILD_TIMEOUT);

describe('templates/terraform/eks against terraform-aws-eks v21.19.0 and terraform-aws-vpc v6.6.0', () => {
  it('pins both modules exactly and asks for the aws provider >= 6.28 within major 6', () => {
    expect(root.info.moduleCalls.eks).toMatchObject({ source: 'terraform-aws-modules/eks/aws', version: '21.19.0' });
    expect(root.info.moduleCalls.vpc).toMatchObject({ source: 'terraform-aws-modules/vpc/aws', version: '6.6.0' });
    const aws = intersect([root.info.requiredProviders.aws?.version ?? '']);
    expect(allows(aws, parseVersion('6.28.0'))).toBe(true);
    expect(allows(aws, parseVersion('6.27.9'))).toBe(false);
    expect(allows(aws, parseVersion('7.0.0'))).toBe(false);
  });

  it('passes only declared variables of each module version, and every required one', () => {
    expect(checkArguments(root, tree)).toEqual([]);
  });

  it('sets only nested keys (node groups, add-ons) that the module declares and reads', () => {
    expect(checkNestedKeys(root, tree)).toEqual([]);
  });

  it('uses only outputs the modules declare', () => {
    expect(checkOutputs(root, tree)).toEqual([]);
  });

  it('has provider constraints that intersect across the whole module tree', () => {
    const providers = providerConstraints(tree);
    expect([...providers.keys()]).toEqual(expect.arrayContaining(['hashicorp/aws', 'hashicorp/tls', 'hashicorp/time']));
    for (const [p, c] of providers) expect(c.ok, `${p}: ${c.constraints.join(' ∧ ')} → ${c.range}`).toBe(true);
    const aws = intersect(providers.get('hashicorp/aws')?.constraints ?? []);
    expect(allows(aws, parseVersion('6.28.0'))).toBe(true);
    expect(tree.size, 'eks, its node-group/fargate/kms submodules and vpc were all read').toBeGreaterThan(5);
  });

  it("has Terraform version constraints that the lab's OpenTofu satisfies", () => {
    const core = intersect([...tree.values()].flatMap((n) => n.info.requiredVersion));
    expect(allows(core, parseVersion(VERSIONS.tofu))).toBe(true);
  });

  it('turns on the VPC CNI network policy agent', () => {
    const cni = root.info.moduleCalls.eks?.args.addons?.object?.['vpc-cni'];
    const values = cni?.object?.configuration_values?.value;
    expect(typeof values).toBe('string');
    expect(JSON.parse(values as string)).toMatchObject({ enableNetworkPolicy: 'true' });
  });

  it('says in variables.tf that node_desired_size takes effect only at creation', () => {
    const vars = readFileSync(path.join(TEMPLATE, 'variables.tf'), 'utf8');
    expect(vars).toMatch(/variable "node_desired_size"[^}]*only when the node group is created/s);
  });
});

describe('the checks catch a broken template', () => {
  let broken: string;
  beforeAll(() => {
    broken = mkdtempSync(path.join(tmpdir(), 'platctl-eks-broken-'));
    cpSync(TEMPLATE, broken, { recursive: true });
    const main = path.join(broken, 'main.tf');
    const outputs = path.join(broken, 'outputs.tf');
    writeFileSync(
      main,
      readFileSync(main, 'utf8')
        // v20 argument names, a misspelt node group key and an add-on key the module does not know.
        .replace('  name               = var.cluster_name', '  cluster_name       = var.cluster_name')
        .replace('instance_types = var.node_instance_types', 'instance_type = var.node_instance_types')
        .replace('before_compute = true', 'before_compute = true\n      after_compute  = true'),
    );
    writeFileSync(outputs, readFileSync(outputs, 'utf8').replace('module.eks.cluster_endpoint', 'module.eks.endpoint'));
  });
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  it('names each problem', async () => {
    const t = await readTree(broken);
    const node = t.get(broken) as TreeNode;
    expect(checkArguments(node, t)).toEqual([
      'module.eks: argument cluster_name is not a variable of terraform-aws-modules/eks/aws 21.19.0',
    ]);
    expect(checkNestedKeys(node, t).sort()).toEqual([
      "module.eks.addons.vpc-cni.after_compute: not an attribute of the variable's type in terraform-aws-modules/eks/aws 21.19.0",
      "module.eks.eks_managed_node_groups.default.instance_type: not an attribute of the variable's type in terraform-aws-modules/eks/aws 21.19.0",
    ]);
    expect(checkOutputs(node, t)).toEqual([
      'module.eks.endpoint: terraform-aws-modules/eks/aws declares no output endpoint',
    ]);
  });

  it('finds constraints that cannot meet', () => {
    const t = new Map(tree);
    t.set('/x', {
      ...root,
      dir: '/x',
      info: { ...root.info, requiredProviders: { aws: { source: 'hashicorp/aws', version: '~> 5.21' } } },
    });
    const aws = providerConstraints(t).get('hashicorp/aws');
    expect(aws?.ok).toBe(false);
  });
});
