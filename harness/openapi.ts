import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

// Checks real answers against Maskline's own OpenAPI 3.1 document, and the document against the OpenAPI 3.1
// specification. The document is registered with Ajv whole, under one id, so that a schema is compiled from
// its place in the document and its `#/components/schemas/...` refs resolve inside the document: nothing is
// copied or inlined, and an error's schema path points at the document itself.

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

const DOCUMENT_ID = 'urn:maskline:openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

// One Ajv per document object: compiled schemas are cached inside it.
const validators = new WeakMap<OpenApiDocument, Ajv2020>();

function ajvFor(document: OpenApiDocument): Ajv2020 {
  const known = validators.get(document);
  if (known) return known;
  // strictTypes off: `{allOf: [...], properties: ...}` without a `type` is valid JSON Schema and idiomatic in
  // OpenAPI; unknown keywords (`nullable`, `example`: OpenAPI 3.0 habits) still fail.
  const ajv = new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: false, allowUnionTypes: true });
  addFormats(ajv);
  // OpenAPI 3.0's `nullable`, which Ajv knows, means nothing in 3.1 (`type: ['string', 'null']` says it there).
  ajv.removeKeyword('nullable');
  // Ajv compiles the document's root on the way to a schema inside it: its OpenAPI fields are not keywords.
  ajv.addVocabulary(Object.keys(document).filter((key) => !ajv.getKeyword(key)));
  ajv.addSchema(document, DOCUMENT_ID);
  validators.set(document, ajv);
  return ajv;
}

/** JSON pointer of a location in the document, e.g. ['paths', '/v1/bookings'] → `/paths/~1v1~1bookings`. */
function pointerOf(parts: readonly string[]): string {
  return parts.map((part) => `/${part.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function partsOf(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(document: OpenApiDocument, parts: readonly string[]): unknown {
  let node: unknown = document;
  for (const part of parts) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Follows `{"$ref": "#/..."}` (a response, parameter or request body object) to where it points. */
function resolve(document: OpenApiDocument, parts: string[]): { parts: string[]; node: unknown } {
  const seen = new Set<string>();
  let node = at(document, parts);
  while (isRecord(node) && typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#/') || seen.has(ref)) return { parts, node: undefined };
    seen.add(ref);
    parts = partsOf(ref.slice(1));
    node = at(document, parts);
  }
  return { parts, node };
}

/** The documented path that a concrete path is an instance of; literal paths win over templated ones. */
export function matchPath(document: OpenApiDocument, concretePath: string): string | null {
  const path = concretePath.split('?')[0] ?? concretePath;
  const candidates = Object.keys(document.paths)
    .filter((template) => {
      const pattern = template
        .split(/(\{[^}]+\})/)
        .map((piece) => (/^\{[^}]+\}$/.test(piece) ? '[^/]+' : piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return new RegExp(`^${pattern}$`).test(path);
    })
    .sort((a, b) => templateCount(a) - templateCount(b));
  return candidates[0] ?? null;
}

function templateCount(template: string): number {
  return template.match(/\{[^}]+\}/g)?.length ?? 0;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath === '' ? 'body' : `body${error.instancePath}`;
    const detail =
      error.keyword === 'additionalProperties'
        ? ` (${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)})`
        : error.keyword === 'enum' || error.keyword === 'const'
          ? ` (${JSON.stringify(error.params)})`
          : '';
    return `${where} ${error.message ?? 'is invalid'}${detail} [${error.schemaPath}]`;
  });
}

/**
 * Checks one answer against the document: the concrete path (`/v1/bookings/ride-1`) is matched to its
 * templated path, the status must be documented for the method (exactly, or by a range such as `4XX`; a
 * `default` response does not count), and the body must match the response's `application/json` schema (be text
 * where only `text/plain` is documented), or be empty when the response has no content.
 * Returns the problems found; none means the answer is documented.
 */
export function validateResponse(
  document: OpenApiDocument,
  method: string,
  path: string,
  status: number,
  body: unknown,
): string[] {
  const label = `${method.toUpperCase()} ${path} → ${status}`;
  const template = matchPath(document, path);
  if (template === null) return [`${label}: the path is not documented`];
  const operationParts = ['paths', template, method.toLowerCase()];
  if (!isRecord(at(document, operationParts)))
    return [`${label}: ${method.toUpperCase()} ${template} is not documented`];

  const responses = at(document, [...operationParts, 'responses']);
  const key = [String(status), `${String(status)[0]}XX`].find((k) => isRecord(responses) && k in responses);
  if (key === undefined)
    return [`${label}: status ${status} is not documented for ${method.toUpperCase()} ${template}`];

  const response = resolve(document, [...operationParts, 'responses', key]);
  if (!isRecord(response.node)) return [`${label}: the response object of ${status} does not resolve`];
  const content = response.node.content;
  if (!isRecord(content)) return body === undefined ? [] : [`${label}: documented without a body, but one came`];
  // Plain text (the Prometheus metrics) is documented as a string; the body must be one.
  if (!isRecord(content['application/json']) && isRecord(content['text/plain'])) {
    return typeof body === 'string' && body !== '' ? [] : [`${label}: documented as text, but none came`];
  }
  if (!isRecord(content['application/json'])) return [`${label}: the response has no application/json content`];

  const schemaPointer = pointerOf([...response.parts, 'content', 'application/json', 'schema']);
  const validate = ajvFor(document).getSchema(`${DOCUMENT_ID}#${schemaPointer}`);
  if (!validate) return [`${label}: no schema at ${schemaPointer}`];
  if (body === undefined) return [`${label}: documented with a JSON body, but none came`];
  return validate(body) ? [] : describeErrors(validate.errors).map((problem) => `${label}: ${problem}`);
}

/** Checks a request body against the operation's documented `application/json` request schema. */
export function validateRequestBody(document: OpenApiDocument, method: string, path: string, body: unknown): string[] {
  const label = `${method.toUpperCase()} ${path} request`;
  const template = matchPath(document, path);
  if (template === null) return [`${label}: the path is not documented`];
  const requestBody = resolve(document, ['paths', template, method.toLowerCase(), 'requestBody']);
  if (!isRecord(requestBody.node)) return body === undefined ? [] : [`${label}: documented without a request body`];
  const schemaPointer = pointerOf([...requestBody.parts, 'content', 'application/json', 'schema']);
  const validate = ajvFor(document).getSchema(`${DOCUMENT_ID}#${schemaPointer}`);
  if (!validate) return [`${label}: no schema at ${schemaPointer}`];
  return validate(body) ? [] : describeErrors(validate.errors).map((problem) => `${label}: ${problem}`);
}

/** Checks a value against the schema at a place in the document (e.g. a webhook's request body). */
export function validateAt(document: OpenApiDocument, parts: readonly string[], value: unknown): string[] {
  const validate = ajvFor(document).getSchema(`${DOCUMENT_ID}#${pointerOf(parts)}`);
  if (!validate) return [`no schema at ${pointerOf(parts)}`];
  return validate(value) ? [] : describeErrors(validate.errors);
}

/** Every documented answer, as `METHOD /templated/path STATUS`. */
export function documentedAnswers(document: OpenApiDocument): string[] {
  const answers: string[] = [];
  for (const [template, pathItem] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const responses = at(document, ['paths', template, method, 'responses']);
      if (!isRecord(pathItem[method]) || !isRecord(responses)) continue;
      for (const status of Object.keys(responses)) answers.push(`${method.toUpperCase()} ${template} ${status}`);
    }
  }
  return answers;
}

/**
 * Checks the document itself: against the OpenAPI 3.1 specification's JSON schema (with
 * @seriousme/openapi-schema-validator, which also checks that every `$ref` resolves), and — since that schema
 * leaves Schema Objects unchecked — every schema of the document against JSON Schema 2020-12, in strict mode.
 */
export async function validateDocument(document: OpenApiDocument): Promise<string[]> {
  const problems: string[] = [];
  // An ES module: a dynamic import is how a CommonJS module loads it.
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const specification = new Validator();
  const result = await specification.validate(structuredClone(document));
  if (!result.valid) {
    const errors =
      typeof result.errors === 'string'
        ? [result.errors]
        : (result.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
    problems.push(...errors.map((error) => `OpenAPI 3.1: ${error}`));
  }
  if (!document.openapi.startsWith('3.1.')) problems.push(`OpenAPI 3.1: openapi is ${document.openapi}`);

  const ajv = ajvFor(document);
  for (const pointer of schemaPointers(document)) {
    try {
      if (!ajv.getSchema(`${DOCUMENT_ID}#${pointer}`)) problems.push(`${pointer}: does not resolve`);
    } catch (error) {
      problems.push(`${pointer}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const schema = at(document, partsOf(pointer));
    if (!ajv.validateSchema(schema as object)) {
      problems.push(...(ajv.errors ?? []).map((error) => `${pointer}${error.instancePath} ${error.message ?? ''}`));
    }
  }
  return problems;
}

/** Where the document holds Schema Objects: components, parameters, request bodies, responses and headers. */
function schemaPointers(document: OpenApiDocument): string[] {
  const pointers: string[] = [];
  for (const name of Object.keys(document.components?.schemas ?? {}))
    pointers.push(pointerOf(['components', 'schemas', name]));
  const visit = (node: unknown, parts: string[]) => {
    if (Array.isArray(node)) return node.forEach((item, index) => visit(item, [...parts, String(index)]));
    if (!isRecord(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' && isRecord(value)) pointers.push(pointerOf([...parts, key]));
      else visit(value, [...parts, key]);
    }
  };
  visit(document.paths, ['paths']);
  visit(document.components?.responses, ['components', 'responses']);
  return pointers;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
