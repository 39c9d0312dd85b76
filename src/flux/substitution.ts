/**
 * Flux post-build substitution. kustomize-controller runs envsubst over every object a Kustomization with
 * `postBuild.substituteFrom` builds, before applying it: `${var}` becomes the variable's value (empty when it
 * is not set, unless the StrictPostBuildSubstitutions gate is on), `${var:=default}` falls back to the default,
 * `$$` stands for one `$`, and an object labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`
 * is left alone (Flux's own CRDs carry it). Everything platctl writes to the fleet repo goes through
 * {@link toFleetYaml}: literal dollars are escaped so they survive, and {@link fluxVar} marks the places that
 * must become `${var}`.
 */
import { Document, visit } from 'yaml';
import type { KubeObject } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import type { PlatformVarName } from '../vars/names.js';

/** The label or annotation that turns substitution off for one object. */
export const SUBSTITUTE_KEY = 'kustomize.toolkit.fluxcd.io/substitute';
/** The names envsubst accepts (kustomize-controller refuses any other name in its variables). */
export const VAR_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

// Control characters never occur in configuration values or YAML plain text: safe as private brackets.
const OPEN = '\u0001';
const CLOSE = '\u0002';
const MARK = new RegExp(`${OPEN}([^${CLOSE}]*)${CLOSE}`);

/**
 * A placeholder for variable `name`, to be used wherever a string goes (whole or inside a larger string); it
 * is written as `${name}` by {@link toFleetYaml} and is meaningless anywhere else.
 */
export function fluxVar(name: PlatformVarName): string {
  if (!VAR_NAME.test(name)) throw new PlatctlError('INTERNAL', `"${name}" is not a valid Flux variable name`);
  return `${OPEN}${name}${CLOSE}`;
}

/** True when a string holds a {@link fluxVar} placeholder. */
export const hasFluxVar = (s: string): boolean => s.includes(OPEN);

/** True when Flux leaves this object alone (label or annotation `substitute: disabled`). */
export function substitutionDisabled(o: Pick<KubeObject, 'metadata'> | undefined): boolean {
  const m = o?.metadata;
  return m?.labels?.[SUBSTITUTE_KEY] === 'disabled' || m?.annotations?.[SUBSTITUTE_KEY] === 'disabled';
}

/**
 * Escapes literal text so envsubst gives it back unchanged. envsubst reads `${` as a variable and `$$` as one
 * `$`; a lone `$` before anything else stays as it is. So a run of dollars is doubled when a `{` follows it or
 * when it is two or more long; a lone `$` (`$(RUNTIME_NAMESPACE)`, `$AWS_REGION`) is left as upstream wrote it.
 * `next` is the character that follows the text in the output.
 */
export function escapeDollars(text: string, next = ''): string {
  return text.replace(/\$+/g, (run: string, at: number) => {
    const after = text[at + run.length] ?? next;
    return after === '{' || run.length > 1 ? run + run : run;
  });
}

/** One string as written: literal parts escaped, placeholders turned into `${name}`. */
export function renderSubstitutable(s: string): string {
  // split with a capture group: literal, name, literal, name, …, literal.
  const parts = s.split(MARK);
  let out = '';
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i + 1];
    out += escapeDollars(parts[i] ?? '', name === undefined ? '' : '{');
    if (name !== undefined) out += `\${${name}}`;
  }
  return out;
}

/** One object as YAML for the fleet repo (see {@link toFleetYaml}). */
function fleetDocument(o: unknown): string {
  const disabled = substitutionDisabled(o as KubeObject);
  const doc = new Document(o);
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value !== 'string') return;
      const raw = node.value;
      if (disabled) {
        if (hasFluxVar(raw)) {
          throw new PlatctlError('INTERNAL', 'a Flux variable in an object with substitution disabled');
        }
        return;
      }
      node.value = renderSubstitutable(raw);
      // Quoted, so a value such as an account id stays a string once substituted (Flux's documented advice;
      // kustomize keeps a scalar's quoting style). Block scalars are strings whatever they hold.
      if (hasFluxVar(raw) && !raw.includes('\n')) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * Objects as one YAML stream for the fleet repo, ready for post-build substitution: each object's strings and
 * keys escaped (unless the object has substitution disabled) and placeholders written as quoted `${name}`.
 * Without placeholders or dollars the text is exactly what `yaml.stringify` gives.
 */
export function toFleetYaml(objects: readonly unknown[]): string {
  return objects.map((o) => `---\n${fleetDocument(o)}`).join('');
}
