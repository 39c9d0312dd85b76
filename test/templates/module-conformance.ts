/**
 * The checks of the EKS module's static conformance test, as pure functions over what hcl-inspect reports, so
 * a test can also prove that each of them catches a broken template. Each returns a list of problems, one
 * line each; an empty list means the check holds.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CtyType, ModuleInfo, Shape } from './hcl-inspect.js';
import { describe, intersect, satisfiable } from './version-constraints.js';

/** A module directory and what calls it. */
export interface TreeNode {
  dir: string;
  info: ModuleInfo;
  /** Module call name → the directory it resolves to. */
  calls: Record<string, string>;
}

/**
 * Where a module source lives offline: a local path beside the caller, or a registry module
 * (`terraform-aws-modules/<name>/aws` at an exact version) in the shared fixtures.
 */
export function resolveSource(fromDir: string, source: string, version: string, fixtures: string): string {
  if (source.startsWith('./') || source.startsWith('../')) return path.resolve(fromDir, source);
  const m = /^terraform-aws-modules\/([a-z0-9-]+)\/aws$/.exec(source);
  if (!m) throw new Error(`${fromDir}: module source ${source} is neither local nor a terraform-aws-modules module`);
  const dir = path.join(fixtures, `terraform-aws-${m[1]}-v${version}`);
  if (!existsSync(dir)) throw new Error(`${fromDir}: no fixture for ${source} ${version} (looked for ${dir})`);
  return dir;
}

/** Arguments passed to each module call that the called module does not declare, and required ones missing. */
export function checkArguments(node: TreeNode, tree: Map<string, TreeNode>): string[] {
  const problems: string[] = [];
  for (const [name, call] of Object.entries(node.info.moduleCalls)) {
    const target = tree.get(node.calls[name] ?? '');
    if (!target) continue;
    const declared = target.info.variables;
    for (const arg of Object.keys(call.args))
      if (!declared[arg])
        problems.push(`module.${name}: argument ${arg} is not a variable of ${call.source} ${call.version}`);
    for (const [v, d] of Object.entries(declared))
      if (!d.hasDefault && !(v in call.args)) problems.push(`module.${name}: required variable ${v} is not passed`);
  }
  return problems;
}

/** The type of an object attribute or map element inside a cty type, or null when the type says nothing. */
function child(type: CtyType | null, key: string): { type: CtyType | null; attr: boolean } | 'undeclared' {
  if (type === null || type === 'dynamic' || !Array.isArray(type)) return { type: null, attr: false };
  const [kind, inner] = type;
  if (kind === 'map') return { type: inner as CtyType, attr: false };
  if (kind === 'object') {
    const attrs = inner as Record<string, CtyType>;
    return key in attrs ? { type: attrs[key] ?? null, attr: true } : 'undeclared';
  }
  return { type: null, attr: false };
}

/**
 * Every key the template sets inside an object argument: it must be an attribute of the variable's type
 * (map keys are data, not attributes), and the module must read that attribute, or something under it, or
 * the attribute that holds it.
 */
export function checkNestedKeys(node: TreeNode, tree: Map<string, TreeNode>): string[] {
  const problems: string[] = [];
  for (const [name, call] of Object.entries(node.info.moduleCalls)) {
    const target = tree.get(node.calls[name] ?? '');
    if (!target) continue;
    for (const [arg, shape] of Object.entries(call.args)) {
      const variable = target.info.variables[arg];
      if (!variable) continue;
      const reads = target.info.varReads[arg] ?? [];
      const isRead = (p: string[]) =>
        reads.some((r) => r.length > 0 && (r.every((x, i) => p[i] === x) || p.every((x, i) => r[i] === x)));
      const walk = (s: Shape, type: CtyType | null, at: string[], shown: string[]) => {
        if (s.kind !== 'object' || !s.object) return;
        for (const [key, sub] of Object.entries(s.object)) {
          const c = child(type, key);
          const where = `module.${name}.${arg}.${[...shown, key].join('.')}`;
          if (c === 'undeclared') {
            problems.push(`${where}: not an attribute of the variable's type in ${call.source} ${call.version}`);
            continue;
          }
          const p = [...at, c.attr ? key : '*'];
          if (c.attr && !isRead(p))
            problems.push(`${where}: declared but never read by ${call.source} ${call.version}`);
          walk(sub, c.type, p, [...shown, key]);
        }
      };
      walk(shape, variable.type, [], []);
    }
  }
  return problems;
}

/** Every `module.<name>.<output>` the module uses must be a module it calls and an output that module declares. */
export function checkOutputs(node: TreeNode, tree: Map<string, TreeNode>): string[] {
  const problems: string[] = [];
  for (const ref of node.info.references) {
    const [, name = '', output = ''] = ref.split('.');
    const target = tree.get(node.calls[name] ?? '');
    if (!target) problems.push(`${ref}: no module call ${name}`);
    else if (!target.info.outputs.includes(output))
      problems.push(`${ref}: ${node.info.moduleCalls[name]?.source} declares no output ${output}`);
  }
  return problems;
}

/** Normalises a provider source: `aws` / `hashicorp/aws` / `registry.terraform.io/hashicorp/aws` are one. */
const providerKey = (name: string, source: string) =>
  (source || `hashicorp/${name}`).replace(/^(registry\.terraform\.io|registry\.opentofu\.org)\//, '');

/** Per provider, every constraint in the tree and whether one version satisfies them all. */
export function providerConstraints(
  tree: Map<string, TreeNode>,
): Map<string, { constraints: string[]; ok: boolean; range: string }> {
  const all = new Map<string, string[]>();
  for (const node of tree.values())
    for (const [name, p] of Object.entries(node.info.requiredProviders))
      if (p.version) all.set(providerKey(name, p.source), [...(all.get(providerKey(name, p.source)) ?? []), p.version]);
  const out = new Map<string, { constraints: string[]; ok: boolean; range: string }>();
  for (const [provider, constraints] of all) {
    const i = intersect(constraints);
    out.set(provider, { constraints, ok: satisfiable(i), range: describe(i) });
  }
  return out;
}
