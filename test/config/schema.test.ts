/**
 * The generated JSON Schema (what editors and `platctl config schema` use) and the small validators behind the
 * schema's region and CIDR rules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { platformJsonSchema } from '../../src/config/schema.js';
import { isValidCidr, isValidRegion } from '../../src/config/validators.js';
import { packageRoot } from '../../src/paths.js';

type Node = Record<string, unknown>;

/** Every JSON Schema node that declares `properties` (i.e. a fixed-shape object), with its pointer. */
function objectNodes(node: unknown, at = '#'): Array<[string, Node]> {
  if (!node || typeof node !== 'object') return [];
  const out: Array<[string, Node]> = [];
  const n = node as Node;
  if (n.properties && typeof n.properties === 'object') out.push([at, n]);
  for (const [k, v] of Object.entries(n)) {
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) out.push(...objectNodes(item, `${at}/${k}/${i}`));
    } else if (v && typeof v === 'object' && k !== 'default') out.push(...objectNodes(v, `${at}/${k}`));
  }
  return out;
}

describe('platformJsonSchema', () => {
  const schema = platformJsonSchema();

  it('is a JSON Schema object with clusters as an array of cluster objects', () => {
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.type).toBe('object');
    const clusters = (schema.properties as Node).clusters as Node;
    expect(clusters.type).toBe('array');
    const item = clusters.items as Node;
    expect(Object.keys(item.properties as Node)).toEqual(
      expect.arrayContaining(['name', 'aws', 'kubernetes', 'terraform', 'fleet', 'flux', 'istio', 'vault', 'tenants']),
    );
    expect(item.required).toEqual(expect.arrayContaining(['name', 'aws', 'kubernetes', 'fleet']));
    expect(() => JSON.parse(JSON.stringify(schema))).not.toThrow();
  });

  it('marks every fixed-shape object additionalProperties: false, so editors flag typos too', () => {
    const nodes = objectNodes(schema);
    // root, cluster, aws, kubernetes, terraform, backend, fleet, flux, istio, vault, images, access, tenant, quota
    expect(nodes.length).toBeGreaterThanOrEqual(14);
    const open = nodes.filter(([, n]) => n.additionalProperties !== false).map(([at]) => at);
    expect(open).toEqual([]);
  });

  it('is the copy shipped in docs/platform.schema.json (regenerate with npm run schema)', () => {
    const shipped = JSON.parse(readFileSync(path.join(packageRoot, 'docs', 'platform.schema.json'), 'utf8'));
    expect(shipped).toEqual(schema);
  });
});

describe('isValidRegion', () => {
  it.each(['us-east-1', 'eu-central-2', 'ap-southeast-4', 'us-gov-west-1', 'cn-north-1', 'il-central-1'])(
    'accepts %s',
    (r) => expect(isValidRegion(r)).toBe(true),
  );
  it.each(['us-east', 'US-EAST-1', 'moon-1', 'us-east-1a', 'useast1', '', ' us-east-1'])('refuses "%s"', (r) =>
    expect(isValidRegion(r)).toBe(false),
  );
});

describe('isValidCidr', () => {
  it.each(['10.0.0.0/16', '0.0.0.0/0', '192.168.1.128/25', '255.255.255.255/32', '172.16.0.0/12'])('accepts %s', (c) =>
    expect(isValidCidr(c)).toBe(true),
  );
  it.each([
    '10.0.0.1/16',
    '300.0.0.0/8',
    '10.0.0.0/33',
    '10.0.0.0',
    '10.0.0/8',
    '10.0.0.0/-1',
    'fd00::/8',
    '192.168.1.64/25',
  ])('refuses %s', (c) => expect(isValidCidr(c)).toBe(false));
});
