// A JSON Schema check of the keywords src/core/patch/install.schema.json uses (type, enum,
// properties, required, additionalProperties, items, minItems, maxItems, minimum, oneOf, local
// $ref): what a value breaks of it, by path. pytest checks the Python side with jsonschema itself.
import { readFileSync } from 'node:fs';

type Schema = {
  $ref?: string;
  $defs?: Record<string, Schema>;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  oneOf?: Schema[];
};

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

function problems(root: Schema, schema: Schema, value: unknown, at: string): string[] {
  if (schema.$ref) return problems(root, root.$defs![schema.$ref.replace('#/$defs/', '')]!, value, at);
  if (schema.oneOf) {
    const fits = schema.oneOf.filter((s) => !problems(root, s, value, at).length).length;
    return fits === 1 ? [] : [`${at}: fits ${fits} of oneOf`];
  }
  const types = [schema.type ?? []].flat();
  const type = typeOf(value);
  if (types.length && !types.includes(type) && !(type === 'integer' && types.includes('number')))
    return [`${at}: ${type}, not ${types.join('|')}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${String(value)} is none of ${schema.enum}`];
  const found: string[] = [];
  if (type === 'integer' && schema.minimum !== undefined && (value as number) < schema.minimum)
    found.push(`${at}: below ${schema.minimum}`);
  if (type === 'array') {
    const list = value as unknown[];
    if (list.length < (schema.minItems ?? 0) || list.length > (schema.maxItems ?? Infinity))
      found.push(`${at}: ${list.length} items`);
    if (schema.items) found.push(...list.flatMap((v, i) => problems(root, schema.items!, v, `${at}[${i}]`)));
  }
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) found.push(`${at}.${key}: missing`);
    for (const [key, v] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) found.push(...problems(root, property, v, `${at}.${key}`));
      else if (schema.additionalProperties === false) found.push(`${at}.${key}: not in the schema`);
      else if (typeof schema.additionalProperties === 'object')
        found.push(...problems(root, schema.additionalProperties, v, `${at}.${key}`));
    }
  }
  return found;
}

const installSchema = JSON.parse(
  readFileSync(new URL('../../src/core/patch/install.schema.json', import.meta.url), 'utf8'),
) as Schema;

/** What `value` breaks of the install schema's definition `name` ([] when nothing). */
export function breaksInstallSchema(name: string, value: unknown): string[] {
  return problems(installSchema, { $ref: `#/$defs/${name}` }, value, name);
}
