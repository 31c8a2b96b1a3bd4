/**
 * Builds the LLMRoute CustomResourceDefinition from schema.ts: the structural
 * OpenAPI v3 schema with defaults, enums and bounds, and each rule's CEL as
 * x-kubernetes-validations. crds/llmroute.dev_llmroutes.yaml is its output
 * (npm run gen:crd); a unit test fails when the file is stale.
 */
import { llmRouteSpecSchema, type SchemaNode } from './schema.ts';

export const GROUP = 'llmroute.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'LLMRoute';
export const PLURAL = 'llmroutes';

type OpenApi = Record<string, unknown>;

export function toOpenApi(node: SchemaNode): OpenApi {
  // Any JSON value: no type, and the API server keeps what it is given.
  if (node.type === 'json') return { ...(node.description ? { description: node.description } : {}), 'x-kubernetes-preserve-unknown-fields': true };
  const out: OpenApi = { type: node.type };
  if (node.description) out.description = node.description;
  if (node.enum) out.enum = [...node.enum];
  if (node.pattern) out.pattern = node.pattern;
  for (const k of ['minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'maxProperties'] as const) {
    if (node[k] !== undefined) out[k] = node[k];
  }
  if (node.default !== undefined) out.default = node.default;
  if (node.required?.length) out.required = [...node.required];
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toOpenApi(v)]));
  }
  if (node.additionalProperties) out.additionalProperties = toOpenApi(node.additionalProperties);
  if (node.items) out.items = toOpenApi(node.items);
  const cel = node.rules?.filter((r) => r.cel !== null) ?? [];
  if (cel.length) out['x-kubernetes-validations'] = cel.map((r) => ({ rule: r.cel, message: r.message }));
  return out;
}

const conditionSchema: OpenApi = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

export function buildCrd(): OpenApi {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'llmroute', shortNames: ['lr'], categories: ['llmroute'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Targets', type: 'integer', jsonPath: '.status.targets' },
            { name: 'Primary', type: 'string', jsonPath: '.status.primary' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'LLMRoute is a fallback chain of LLM targets that apps select by model name.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toOpenApi(llmRouteSpecSchema),
                status: {
                  type: 'object',
                  properties: {
                    observedGeneration: { type: 'integer', format: 'int64' },
                    targets: { type: 'integer', description: 'How many targets the route has.' },
                    primary: { type: 'string', description: "The first target's provider/model." },
                    conditions: {
                      type: 'array',
                      items: conditionSchema,
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['type'],
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}
