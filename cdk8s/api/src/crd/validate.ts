// In-process validation of custom resources against their CRD schema: the structural schema with
// ajv and the x-kubernetes-validations CEL rules with @bufbuild/cel, including transition rules
// (oldSelf). The API server stays the authority; this gives the same verdicts without one, for
// tests and for `npm run synth`.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CelScalar, celFunc, celMethod, isCelError, run } from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import type { CrdDefinition } from './crds.ts';
import { isCidr } from '../cidr.ts';
import { parseQuantity } from './quantity.ts';
import type { Schema } from './schema.ts';

export interface ValidationError {
  /** Field path such as `spec.execution.credentialsSecretRef`. */
  path: string;
  message: string;
}

// The Kubernetes quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go) as far as the
// rules use it. A quantity is represented by its numeric value, which is all compareTo needs.
const K8S_FUNCS = [
  celFunc('quantity', [CelScalar.STRING], CelScalar.DOUBLE, (s: string) => parseQuantity(s)),
  celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s: string) => {
    try {
      parseQuantity(s);
      return true;
    } catch {
      return false;
    }
  }),
  // k8s.io/apiserver/pkg/cel/library/cidr.go: Go's netip.ParsePrefix (no zone, no leading zeros).
  celFunc('isCIDR', [CelScalar.STRING], CelScalar.BOOL, isCidr),
  celMethod(
    'compareTo',
    CelScalar.DOUBLE,
    [CelScalar.DOUBLE],
    CelScalar.INT,
    function (this: number, o: number) {
      return BigInt(Math.sign(this - o));
    },
  ),
];

const ajvCache = new WeakMap<Schema, ValidateFunction>();

function ajvFor(schema: Schema): ValidateFunction {
  let v = ajvCache.get(schema);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('int64', true);
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
    v = ajv.compile(schema);
    ajvCache.set(schema, v);
  }
  return v;
}

function ajvMessage(e: ErrorObject): ValidationError {
  // The API server's notation: spec.pairs[0], not /spec/pairs/0.
  const path = e.instancePath
    .slice(1)
    .split('/')
    .map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'enum') {
    const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return { path, message: `Unsupported value: supported values: ${allowed}` };
  }
  if (e.keyword === 'required')
    return {
      path: path ? `${path}.${String(params['missingProperty'])}` : String(params['missingProperty']),
      message: 'Required value',
    };
  return { path, message: e.message ?? e.keyword };
}

/** Converts JSON to CEL values the way the API server types them (integers are CEL ints). */
function toCel(schema: Schema | undefined, value: unknown): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items, v));
  if (typeof value === 'number')
    return Number.isInteger(value) && schema?.type !== 'number' ? BigInt(value) : value;
  if (value !== null && typeof value === 'object') {
    const props = schema?.properties ?? {};
    const extra = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(props[k] ?? extra, v)]));
  }
  return value as CelInput;
}

const isTransitionRule = (rule: string) => /\boldSelf\b/.test(rule);

function celErrors(schema: Schema, value: unknown, old: unknown, path: string, out: ValidationError[]): void {
  if (value === undefined || value === null) return;
  for (const v of schema['x-kubernetes-validations'] ?? []) {
    const transition = isTransitionRule(v.rule);
    // Transition rules run only on updates where the field existed before (as in the API server).
    if (transition && (old === undefined || old === null)) continue;
    const bindings: Record<string, CelInput> = { self: toCel(schema, value) };
    if (transition) bindings['oldSelf'] = toCel(schema, old);
    const result = run(v.rule, bindings, { funcs: K8S_FUNCS });
    const where = path + (v.fieldPath ?? '');
    if (isCelError(result))
      out.push({ path: where, message: `${v.message} (rule error: ${result.message})` });
    else if (result !== true) out.push({ path: where, message: v.message });
  }
  if (Array.isArray(value)) {
    // List items are correlated with old items only for map lists in the API server; VeloZ has
    // no transition rules inside lists, so items are checked as new.
    value.forEach(
      (item, i) => schema.items && celErrors(schema.items, item, undefined, `${path}[${i}]`, out),
    );
    return;
  }
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const prev =
      old !== null && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : {};
    for (const [k, child] of Object.entries(schema.properties ?? {}))
      celErrors(child, o[k], prev[k], path ? `${path}.${k}` : k, out);
  }
}

/**
 * Validates a (defaulted) custom resource like the API server would on create, or on update when
 * `old` is given. Returns every error; none means accepted.
 */
export function validate(def: CrdDefinition, obj: unknown, old?: unknown): ValidationError[] {
  const check = ajvFor(def.schema);
  if (!check(obj)) return (check.errors ?? []).map(ajvMessage);
  const out: ValidationError[] = [];
  celErrors(def.schema, obj, old, '', out);
  return out;
}

/**
 * The API server checks every default against the rules of its field when the CRD is created,
 * as written (nested defaults not applied): rules must hold for `default: {}` too.
 */
export function defaultErrors(def: CrdDefinition): ValidationError[] {
  const out: ValidationError[] = [];
  const visit = (s: Schema, path: string) => {
    if (s.default !== undefined) celErrors(s, s.default, undefined, `${path}(default)`, out);
    for (const [k, child] of Object.entries(s.properties ?? {})) visit(child, `${path}.${k}`);
    if (s.items) visit(s.items, `${path}[]`);
  };
  visit(def.schema, def.kind);
  return out;
}
