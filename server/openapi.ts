import { z } from 'zod';
import { ERROR_CATALOGUE } from '../core/errors.js';
import { errorBodySchema, type AnyRoute } from './http/route.js';

// `:name` and Express 5's wildcard `*name` both become `{name}`.
const toOpenApiPath = (path: string) => path.replace(/[:*]([A-Za-z_]\w*)\*?/g, '{$1}');

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  // draft-2020-12 JSON Schema is what OpenAPI 3.1 uses for schema objects.
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

function objectProperties(schema: z.ZodType | undefined): Array<{ name: string; required: boolean; schema: unknown }> {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, required: js.required?.includes(name) ?? false, schema: s }));
}

/** The OpenAPI 3.1 document, generated from the same route table and zod schemas that validate requests. */
export function buildOpenApi(routes: readonly AnyRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters = [
      ...objectProperties(r.params).map((p) => ({ in: 'path', name: p.name, required: true, schema: p.schema })),
      ...objectProperties(r.query).map((p) => ({ in: 'query', name: p.name, required: p.required, schema: p.schema })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [code, spec] of Object.entries(r.responses)) {
      const contentType = spec.contentType ?? 'application/json';
      responses[code] = {
        description: spec.description,
        ...(spec.schema ? { content: { [contentType]: { schema: jsonSchema(spec.schema, 'output') } } } : spec.contentType ? { content: { [contentType]: {} } } : {}),
      };
    }
    responses.default = { description: 'An error from the catalogue', content: { 'application/json': { schema: jsonSchema(errorBodySchema, 'output') } } };
    (paths[toOpenApiPath(r.path)] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}${toOpenApiPath(r.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(r.auth === 'none' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Samokoder API',
      version,
      description: `Errors are {"error":{"code","message"}}. Codes: ${Object.keys(ERROR_CATALOGUE).join(', ')}.`,
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
