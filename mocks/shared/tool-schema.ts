import * as z from 'zod';
import { deepFreeze } from '../../common/index.ts';

type JsonSchemaOf = (options: { target: string }) => Record<string, unknown>;

/**
 * A tool's argument schema, made once per process: `z.object(shape)`, whose JSON Schema (what
 * tools/list sends) is converted once per target instead of on every request's server (the
 * services are stateless: a server per request, each listing the same tools). Either SDK takes it
 * as `inputSchema`; arguments are validated by zod as before.
 *
 * @example
 * const INPUTS = { echo: toolInputSchema({ message: z.string() }) };
 */
export function toolInputSchema<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape> {
  const schema = z.object(shape);
  const standard = schema['~standard'] as typeof schema['~standard'] & { jsonSchema?: { input: JsonSchemaOf; output: JsonSchemaOf } };
  const convert = standard.jsonSchema;
  if (!convert) return schema;
  const converted = new Map<string, Record<string, unknown>>();
  const once = (io: 'input' | 'output'): JsonSchemaOf => (options) => {
    const key = `${io}\u0000${JSON.stringify(options)}`;
    let json = converted.get(key);
    // Frozen: shared by every request's tools/list (the SDKs copy before they add, say, a root `type`).
    if (!json) converted.set(key, (json = deepFreeze(convert[io](options))));
    return json;
  };
  (schema as { '~standard': unknown })['~standard'] = { ...standard, jsonSchema: { input: once('input'), output: once('output') } };
  return schema;
}
