/**
 * What platctl writes to the fleet repo survives Flux's post-build substitution: literal dollars come back as
 * they were, placeholders become the variable's value (as a string), and objects with substitution disabled
 * (Flux's own CRDs) are written as upstream wrote them. Checked against a model of kustomize-controller's
 * envsubst (test/helpers/flux-envsubst.ts); the lab proves it with the real controller.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../src/clients/kube.js';
import { fluxSystemFiles, syncObjects } from '../../src/flux/fleet.js';
import { parseManifests, toYamlStream } from '../../src/flux/manifests.js';
import {
  escapeDollars,
  fluxVar,
  renderSubstitutable,
  SUBSTITUTE_KEY,
  substitutionDisabled,
  toFleetYaml,
} from '../../src/flux/substitution.js';
import { clusterConfig } from '../helpers/config.js';
import { envsubst, substituteStream } from '../helpers/flux-envsubst.js';

const VARS = { aws_region: 'eu-west-1', aws_account_id: '123456789012', vault_iam_role_arn: 'arn:aws:iam::1:role/x' };
const INSTALL = path.join('..', 'shared', 'fixtures', 'flux', 'install.yaml');

describe('the envsubst model', () => {
  it('reads ${var}, defaults, and $$ as one dollar, left to right', () => {
    expect(envsubst('a ${aws_region} b', VARS)).toBe('a eu-west-1 b');
    expect(envsubst('${nope:=x}${aws_region:=y}${nope}', VARS)).toBe('xeu-west-1');
    expect(envsubst('$${aws_region} $$ $$$ $x $(Y)', VARS)).toBe('${aws_region} $ $$ $x $(Y)');
    expect(envsubst('$$${aws_region}', VARS)).toBe('$eu-west-1');
    expect(() => envsubst('${nope}', VARS, { strict: true })).toThrow(/strict/);
  });
});

describe('escaping literal text', () => {
  it.each([
    'plain',
    '$(RUNTIME_NAMESPACE)',
    'echo "$AWS_REGION"',
    '${not_a_var}',
    '$${already}',
    'a $$ b',
    '$$$',
    'ends with $',
    '{{ $x := .Values }}',
    'price: $5 {',
    '$ {x}',
  ])('%s comes back unchanged through envsubst', (text) => {
    expect(envsubst(escapeDollars(text), VARS)).toBe(text);
  });

  it('leaves a lone dollar that envsubst keeps as it is, so upstream text stays upstream text', () => {
    expect(escapeDollars('--addr=source-controller.$(RUNTIME_NAMESPACE).svc')).toBe(
      '--addr=source-controller.$(RUNTIME_NAMESPACE).svc',
    );
    expect(escapeDollars('${x}')).toBe('$${x}');
    expect(escapeDollars('a$$b')).toBe('a$$$$b');
  });

  it('escapes a dollar right before a placeholder, so the variable still opens', () => {
    const s = renderSubstitutable(`cost $${fluxVar('aws_region')} and ${fluxVar('aws_account_id')}$`);
    expect(s).toBe('cost $$${aws_region} and ${aws_account_id}$');
    expect(envsubst(s, VARS)).toBe('cost $eu-west-1 and 123456789012$');
  });
});

describe('toFleetYaml', () => {
  it('is yaml.stringify exactly when there is nothing to escape', () => {
    const objs = syncObjects(clusterConfig('demo'));
    const list = [objs.gitRepository, objs.kustomization];
    expect(toFleetYaml(list)).toBe(toYamlStream(list));
    expect(toFleetYaml(list)).toBe(list.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
  });

  it('writes placeholders as quoted ${name}, so a numeric value stays a string', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', annotations: { 'eks.amazonaws.com/role-arn': fluxVar('vault_iam_role_arn') } },
      data: { account: fluxVar('aws_account_id'), script: `region=${fluxVar('aws_region')}\necho "$HOME" \${x}\n` },
    };
    const text = toFleetYaml([cm]);
    expect(text).toContain('account: "${aws_account_id}"');
    expect(text).toContain('eks.amazonaws.com/role-arn: "${vault_iam_role_arn}"');
    const [out] = substituteStream(text, VARS) as (typeof cm)[];
    expect(out?.data).toEqual({ account: '123456789012', script: 'region=eu-west-1\necho "$HOME" ${x}\n' });
    expect(out?.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(VARS.vault_iam_role_arn);
  });

  it('escapes keys as well as values', () => {
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'k' }, data: { 'a${b}': '$${c}' } };
    expect(substituteStream(toFleetYaml([obj]), VARS)).toEqual([obj]);
  });

  it('leaves objects with substitution disabled exactly as given, and refuses a placeholder in one', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'c', annotations: { [SUBSTITUTE_KEY]: 'disabled' } },
      spec: { description: 'e.g. ${var:=default} and $${escaped}' },
    };
    expect(substitutionDisabled(crd)).toBe(true);
    expect(toFleetYaml([crd])).toBe(toYamlStream([crd]));
    expect(substituteStream(toFleetYaml([crd]), VARS)).toEqual([crd]);
    const bad = { ...crd, spec: { description: fluxVar('aws_region') } };
    expect(() => toFleetYaml([bad])).toThrow(/substitution disabled/);
  });
});

describe("Flux's own install in the fleet repo", () => {
  const components = parseManifests(readFileSync(INSTALL, 'utf8'));
  const file = fluxSystemFiles(clusterConfig('demo'), components).find((f) => f.path.endsWith('gotk-components.yaml'));

  it('keeps the upstream substitute: disabled annotation on every CRD', () => {
    const crds = parseAllDocuments(file?.content ?? '')
      .map((d) => d.toJS() as KubeObject)
      .filter((o) => o?.kind === 'CustomResourceDefinition');
    expect(crds.length).toBe(components.filter((o) => o.kind === 'CustomResourceDefinition').length);
    expect(crds.length).toBeGreaterThan(0);
    for (const crd of crds) expect(crd.metadata.annotations?.[SUBSTITUTE_KEY], crd.metadata.name).toBe('disabled');
  });

  it('comes out of substitution as the very objects platctl installs (the CRDs mention ${var:=default})', () => {
    expect(file?.content).toContain('${var:=default}');
    expect(substituteStream(file?.content ?? '', VARS, { strict: true })).toEqual(components);
  });
});
