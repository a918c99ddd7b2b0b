// The two CustomResourceDefinitions, assembled from the spec and status schemas.
import { named, obj, str } from './schema.ts';
import type { Schema } from './schema.ts';
import { velozDeploymentSpec, velozDeploymentStatus } from './veloz-deployment.ts';
import { velozStrategySpec, velozStrategyStatus } from './veloz-strategy.ts';

export const GROUP = 'veloz.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortName: string;
  description: string;
  /** The CR's full schema (apiVersion, kind, metadata, spec, status). */
  schema: Schema;
  columns: PrinterColumn[];
}

function root(
  kind: string,
  description: string,
  spec: Schema,
  status: Schema,
  specRequired: boolean,
): Schema {
  return named(
    kind,
    obj(
      description,
      {
        apiVersion: str('APIVersion of this object: veloz.io/v1alpha1.'),
        kind: str(`Kind of this object: ${kind}.`),
        // The API server allows nothing but the type here: metadata is its own.
        metadata: { type: 'object' },
        spec,
        status,
      },
      specRequired ? { required: ['spec'] } : {},
    ),
  );
}

const age: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

export const VELOZ_DEPLOYMENT: CrdDefinition = {
  kind: 'VelozDeployment',
  plural: 'velozdeployments',
  singular: 'velozdeployment',
  shortName: 'vzd',
  description:
    'A VeloZ trading deployment: gateway/engine pairs, their write-ahead logs, monitoring and backups.',
  schema: root(
    'VelozDeployment',
    'A VeloZ trading deployment: gateway/engine pairs, their write-ahead logs, monitoring and backups.',
    velozDeploymentSpec,
    velozDeploymentStatus,
    false,
  ),
  columns: [
    { name: 'Pairs', type: 'integer', jsonPath: '.spec.pairs', description: 'Desired pairs.' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyPairs', description: 'Ready pairs.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.execution.mode', description: 'Execution mode.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Summary of the state.' },
    age,
  ],
};

export const VELOZ_STRATEGY: CrdDefinition = {
  kind: 'VelozStrategy',
  plural: 'velozstrategies',
  singular: 'velozstrategy',
  shortName: 'vzs',
  description: 'A trading strategy run by the engines of a VelozDeployment.',
  schema: root(
    'VelozStrategy',
    'A trading strategy run by the engines of a VelozDeployment.',
    velozStrategySpec,
    velozStrategyStatus,
    true,
  ),
  columns: [
    {
      name: 'Deployment',
      type: 'string',
      jsonPath: '.spec.deploymentRef.name',
      description: 'The VelozDeployment.',
    },
    { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Strategy type.' },
    { name: 'Symbol', type: 'string', jsonPath: '.spec.symbol', description: 'Traded symbol.' },
    {
      name: 'Running',
      type: 'integer',
      jsonPath: '.status.runningEngines',
      description: 'Engines running it.',
    },
    {
      name: 'Halted',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Halted")].status',
      description: 'True while a guardrail holds it halted on some engine (ADR 0020).',
    },
    { name: 'PnL', type: 'string', jsonPath: '.status.realizedPnl', description: 'Realized PnL.' },
    age,
  ],
};

export const CRDS = [VELOZ_DEPLOYMENT, VELOZ_STRATEGY] as const;

/** The apiextensions.k8s.io/v1 object, as `kubectl apply` takes it. */
export function crdObject(def: CrdDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [def.shortName],
        categories: ['veloz'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: { openAPIV3Schema: def.schema },
        },
      ],
    },
  };
}
