import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// Checks JSON against 8x8's published OpenAPI 3.0 files, copied as published into `harness/8x8/`.
//
// What the files hold: voice_v1_api.json has no `components.schemas`; the callflow schemas are inline in the
// request body of `POST .../callflows`, titled `Callflow Request`, `MakeCall`, `Say`, `SayAndCapture`, `PlayFile`,
// `Hangup`. No schema describes the answer to a CALL_ACTION webhook, so we check our answer against
// `Callflow Request`, whose `callflow` array is the same list of actions. Neither file describes the inbound
// webhook payloads (CALL_ACTION, CALL_STATUS, ...): those are known from 8x8's guides only.
// number_masking_api.json has `components.schemas` (webhook registration and error bodies).

export type SpecFile = 'voice' | 'masking';

export interface SchemaCheck {
  valid: boolean;
  errors: string[];
}

export const SPEC_DIR = path.resolve(__dirname, '8x8');
export const SPEC_FILES: Record<SpecFile, string> = {
  voice: 'voice_v1_api.json',
  masking: 'number_masking_api.json',
};

// OpenAPI 3.0 schemas are not quite JSON Schema: `nullable`, `example`, `discriminator`, `xml` and friends are
// not keywords of draft-07. Ajv understands `nullable`; `strict: false` lets it ignore the rest.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const specs = {} as Record<SpecFile, OpenApiDocument>;
const schemaPointers = {} as Record<SpecFile, Map<string, string>>;
for (const specFile of Object.keys(SPEC_FILES) as SpecFile[]) {
  specs[specFile] = specFile === 'voice' ? correctSayAndCapture(loadSpec(specFile)) : loadSpec(specFile);
  schemaPointers[specFile] = namedSchemas(specs[specFile]);
  // The whole document is registered under its name, so the spec's own `#/...` refs resolve inside it.
  ajv.addSchema(specs[specFile] as AnySchema, specFile);
}

interface OpenApiDocument {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
}

function loadSpec(specFile: SpecFile): OpenApiDocument {
  const file = path.join(SPEC_DIR, SPEC_FILES[specFile]);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  } catch (cause) {
    throw new Error(`cannot read 8x8's OpenAPI file ${file}`, { cause });
  }
}

/**
 * The published SayAndCapture lists `promptMessage` and `voiceProfile` as required on the action object instead of
 * on its `params`, where its own properties and 8x8's own example (the callflows guide's "IVR with DTMF Capture")
 * put them: as published, no correct sayAndCapture passes. The `required` list is moved into `params`; nothing
 * else of the spec is changed. Should 8x8 fix its file, this finds nothing to move.
 */
function correctSayAndCapture(spec: OpenApiDocument): OpenApiDocument {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const schema = node as { title?: unknown; required?: string[]; properties?: { params?: { required?: string[] } } };
    if (schema.title === 'SayAndCapture' && schema.properties?.params && schema.required) {
      const misplaced = schema.required.filter((field) => field !== 'action' && field !== 'params');
      schema.properties.params.required = [...(schema.properties.params.required ?? []), ...misplaced];
      schema.required = schema.required.filter((field) => !misplaced.includes(field));
      return;
    }
    Object.values(node).forEach(visit);
  };
  visit(spec.paths);
  return spec;
}

// Schemas by name: `components.schemas` entries by key, inline schemas anywhere under `paths` by `title`.
function namedSchemas(spec: OpenApiDocument): Map<string, string> {
  const pointers = new Map<string, string>();
  for (const name of Object.keys(spec.components?.schemas ?? {})) {
    pointers.set(name, pointerOf(['components', 'schemas', name]));
  }
  const visit = (node: unknown, at: string[]): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, [...at, String(i)]));
    } else if (typeof node === 'object' && node !== null) {
      const { title } = node as { title?: unknown };
      if (typeof title === 'string' && !pointers.has(title)) pointers.set(title, pointerOf(at));
      for (const [key, child] of Object.entries(node)) visit(child, [...at, key]);
    }
  };
  visit(spec.paths, ['paths']);
  return pointers;
}

// A JSON pointer as a URI fragment: `~` and `/` escaped, then percent-encoded (paths contain `{subAccountId}`).
function pointerOf(segments: string[]): string {
  return '#/' + segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

function refTo(specFile: SpecFile, schemaName: string): { $ref: string } {
  const pointer = schemaName.startsWith('#/') ? schemaName : schemaPointers[specFile].get(schemaName);
  if (pointer === undefined) {
    const known = [...schemaPointers[specFile].keys()].join(', ');
    throw new Error(`no schema named ${JSON.stringify(schemaName)} in ${SPEC_FILES[specFile]}; known: ${known}`);
  }
  return { $ref: `${specFile}${pointer}` };
}

const compiled = new Map<string, ValidateFunction>();
function compile(key: string, schema: () => AnySchema): ValidateFunction {
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema());
    compiled.set(key, validate);
  }
  return validate;
}

export function specSchemaNames(specFile: SpecFile): string[] {
  return [...schemaPointers[specFile].keys()];
}

/** The schema object itself, e.g. to read the `example` or `default` 8x8 published with it. */
export function namedSchema(specFile: SpecFile, schemaName: string): Record<string, unknown> {
  return schemaAt(specs[specFile], refTo(specFile, schemaName).$ref.slice(specFile.length)) as Record<string, unknown>;
}

/** Checks `value` against a named schema of a spec: a `components.schemas` key, an inline `title`, or `#/...`. */
export function validateAgainst(specFile: SpecFile, schemaName: string, value: unknown): SchemaCheck {
  const validate = compile(`${specFile} ${schemaName}`, () => refTo(specFile, schemaName));
  return check(validate, value);
}

// --- the answer to a CALL_ACTION webhook -------------------------------------------------------------------

interface ActionBranch {
  action: string;
  title: string;
  paramsRequired: boolean;
}

// The action schemas, read from the spec: each `callflow.items.anyOf` branch names its action in an enum.
function actionBranches(): ActionBranch[] {
  const request = namedSchema('voice', 'Callflow Request') as {
    properties: { callflow: { items: { anyOf: ActionSchema[] } } };
  };
  return request.properties.callflow.items.anyOf.map((branch) => ({
    action: String(branch.properties?.action?.enum?.[0]),
    title: String(branch.title),
    paramsRequired: (branch.properties?.params?.required?.length ?? 0) > 0,
  }));
}

interface ActionSchema {
  title?: string;
  properties?: { action?: { enum?: unknown[] }; params?: { required?: string[] } };
}

function schemaAt(spec: OpenApiDocument, pointer: string): unknown {
  return pointer
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], spec);
}

const branches = actionBranches();

// The spec's action schemas are loose where 8x8 is not: no branch requires `action` (so `{ acton: 'makeCall', ... }`
// matches MakeCall), `params` is optional even where its fields are required, and `callflow` itself is optional.
// 8x8 answers such callflows with "$.callflow[0].action should be one of: ...". This overlay adds what the spec
// implies; everything else comes from the spec unchanged.
// One flaw is corrected where the spec is loaded (correctSayAndCapture).
const actionOverlay = {
  type: 'object',
  required: ['action'],
  if: { properties: { action: { enum: branches.filter((b) => b.paramsRequired).map((b) => b.action) } } },
  then: { required: ['params'] },
};
const answerOverlay = {
  type: 'object',
  required: ['callflow'],
  properties: {
    clientActionId: { type: 'string' },
    callflow: { type: 'array', minItems: 1 },
  },
};

/**
 * Checks our answer to a CALL_ACTION webhook against 8x8's callflow schema. On failure, `errors` names the
 * action that is wrong and what is wrong with it, judged by the schema of the action it claims to be.
 */
export function validateCallActionAnswer(answer: unknown): SchemaCheck {
  const validate = compile('call action answer', () => ({
    allOf: [refTo('voice', 'Callflow Request'), answerOverlay, { properties: { callflow: { items: actionOverlay } } }],
  }));
  if (validate(answer)) return { valid: true, errors: [] };
  const outsideActions = (validate.errors ?? []).filter((e) => !/^\/callflow\/\d+/.test(e.instancePath));
  const errors = [...outsideActions.map((e) => describeError(e)), ...explainActions(answer)];
  return { valid: false, errors: errors.length > 0 ? errors : (validate.errors ?? []).map((e) => describeError(e)) };
}

// Ajv's errors for an `anyOf` list every branch that did not match; this judges each action by its own branch.
function explainActions(answer: unknown): string[] {
  const callflow = (answer as { callflow?: unknown } | null)?.callflow;
  if (!Array.isArray(callflow)) return [];
  return callflow.flatMap((action: unknown, i) => {
    const name = (action as { action?: unknown } | null)?.action;
    const branch = branches.find((b) => b.action === name);
    if (name === undefined) return [`/callflow/${i} must have required property 'action'`];
    if (branch === undefined) {
      const known = branches.map((b) => b.action).join(', ');
      return [`/callflow/${i}/action must be one of: ${known} (got ${JSON.stringify(name)})`];
    }
    const validateAction = compile(`action ${branch.action}`, () => ({
      allOf: [refTo('voice', branch.title), actionOverlay],
    }));
    if (validateAction(action)) return [];
    // `if`/`then` adds "must match "then" schema" after the error that says what is missing.
    const errors = (validateAction.errors ?? []).filter((e) => e.keyword !== 'if');
    return errors.map((e) => describeError(e, `/callflow/${i}`));
  });
}

/**
 * Checks the answer for a booking that records its calls. 8x8's call-recordings guide adds `callRecording: true`
 * to makeCall's params, which the published schema caps at `source` and `destination` (`maxProperties: 2`): the
 * one field the guide adds must be `true`, and the rest must pass the schema as published.
 */
export function validateRecordedCallActionAnswer(answer: unknown): SchemaCheck {
  const callflow = (answer as { callflow?: unknown } | null)?.callflow;
  const errors: string[] = [];
  const asPublished = Array.isArray(callflow)
    ? {
        ...(answer as object),
        callflow: callflow.map((action: unknown, i) => {
          const { action: name, params } = (action ?? {}) as { action?: unknown; params?: Record<string, unknown> };
          if (name !== 'makeCall' || params === undefined || !('callRecording' in params)) return action;
          const { callRecording, ...rest } = params;
          if (callRecording !== true) errors.push(`/callflow/${i}/params/callRecording must be true`);
          return { ...(action as object), params: rest };
        }),
      }
    : answer;
  const published = validateCallActionAnswer(asPublished);
  return { valid: published.valid && errors.length === 0, errors: [...errors, ...published.errors] };
}

/** Checks a CALL_RECORDING_STATUS payload against 8x8's recording status (`GET .../recordings/{sessionId}`). */
export function validateRecordingStatus(payload: unknown): SchemaCheck {
  const pointer =
    '#/paths/' +
    encodeURIComponent('~1api~1v1~1subaccounts~1{subAccountId}~1recordings~1{sessionId}') +
    '/get/responses/200/content/' +
    encodeURIComponent('application~1json') +
    '/schema/properties/recordings/items';
  return validateAgainst('masking', pointer, payload);
}

function check(validate: ValidateFunction, value: unknown): SchemaCheck {
  const valid = validate(value);
  return { valid, errors: valid ? [] : (validate.errors ?? []).map((e) => describeError(e)) };
}

// `/callflow/0/params must have required property 'destination'`
function describeError(error: ErrorObject, under = ''): string {
  const where = under + error.instancePath || '/';
  const allowed = error.keyword === 'enum' ? `: ${JSON.stringify(error.params.allowedValues)}` : '';
  return `${where} ${error.message ?? 'is invalid'}${allowed}`;
}
