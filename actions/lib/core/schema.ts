// Schemas for the project's documents (plans, manifests, records, claims, endpoint files,
// coordinator messages) and the error messages they give. Every document is read through a zod
// schema; every problem becomes one line naming the field path, the value and what was expected:
//
//   invalid plan my-plan.json:
//     - sweeps[2].step: 0 is out of range: expected 1 to 1073741824
//     - replicates: expected a whole number, got "3"
//
// The small API:
// - building blocks that carry the project's wording: whole(), finite(), text(), oneOf(), flag(),
//   strict(), list(), isoTime(); each takes a `meaning` that becomes the field's description in the
//   generated JSON Schema;
// - parseOrThrow(schema, input, header, makeError): the parsed value, or one error listing every
//   problem under `header` (which names the file, and the line where there is one); zod's own
//   issues (a discriminated union's unknown kind, a wrong type) are worded the same way;
// - parseJson(text, makeError): JSON.parse whose error quotes at most a short escaped excerpt;
// - versioned(schema, format): documents carry formatVersion; an older one goes through explicit
//   upgrade steps before the current schema, a newer one is refused (see VersionedFormat).
// Reading a JSON file is three calls: readRegularFile (core/safe-read.ts), parseJson, parseOrThrow
// (see loadPlan in plan/plan-file.ts). Pure: no I/O.

import { z } from 'zod';

/** One problem in a document: where (a field path such as `sweeps[2].step`; '' for the whole document) and what. */
export interface Problem {
  path: string;
  message: string;
}

/** At most this many problems are listed; a hostile document with a million wrong fields gets a short message. */
const MAX_LISTED_PROBLEMS = 50;
/** Longest excerpt of a value quoted in a message. */
const MAX_EXCERPT = 60;

/** `['sweeps', 2, 'step']` -> `sweeps[2].step`; keys that are not identifiers are quoted: `sysctls["net.core.wmem_max"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function excerpt(json: string): string {
  return json.length > MAX_EXCERPT ? `${json.slice(0, MAX_EXCERPT)}...` : json;
}

/**
 * A value as a message shows it: JSON, escaped (quotes, control characters) and cut to a short
 * excerpt, so a message never carries a whole hostile document. Non-finite numbers (1e309 in a
 * file is read as Infinity) are shown as such; a missing value is "nothing".
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : `${value} (a number too large to hold)`;
  if (typeof value === 'string') {
    const shown = excerpt(JSON.stringify(value.length > MAX_EXCERPT ? value.slice(0, MAX_EXCERPT) : value));
    return value.length > MAX_EXCERPT ? `${shown} (${value.length} characters)` : shown;
  }
  if (Array.isArray(value) && value.length > 10) return `a list of ${value.length} entries`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 10)
    return `an object with ${Object.keys(value).length} fields`;
  try {
    return excerpt(JSON.stringify(value) ?? String(value));
  } catch {
    return typeof value;
  }
}

// ---------- building blocks with the project's wording ----------

/**
 * Names that become parts of file and directory names (plans, series, environments, run ids):
 * nothing that could climb out of a directory or hide a file.
 */
export const SAFE_NAME = {
  re: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  expected: "letters, digits, '.', '_' or '-', starting with a letter or digit",
};

/** A dotted IPv4 address (netperf runs with -4: a host name or IPv6 address will not do). */
export const IPV4_ADDRESS = {
  re: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
  expected: 'a dotted IPv4 address such as 198.18.0.1',
};

/** A field's meaning, shown by editors from the generated JSON Schema. */
type Meaning = string | undefined;
const described = <S extends z.ZodType>(schema: S, meaning: Meaning): S =>
  meaning ? schema.meta({ description: meaning }) : schema;

/** A whole number from min to max (inclusive). */
export function whole(min: number, max: number, meaning?: Meaning) {
  const range = {
    error: (iss: { input?: unknown }) => `${describeValue(iss.input)} is out of range: expected ${min} to ${max}`,
  };
  return described(
    z
      .number({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
      .int({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
      .min(min, range)
      .max(max, range),
    meaning,
  );
}

/** A finite number from min to max (inclusive). */
export function finite(min: number, max: number, meaning?: Meaning) {
  const range = {
    error: (iss: { input?: unknown }) => `${describeValue(iss.input)} is out of range: expected ${min} to ${max}`,
  };
  return described(
    z
      .number({
        error: (iss) =>
          typeof iss.input === 'number'
            ? `expected a finite number, got ${describeValue(iss.input)}`
            : `expected a number, got ${describeValue(iss.input)}`,
      })
      .min(min, range)
      .max(max, range),
    meaning,
  );
}

export interface TextOptions {
  /** Longest accepted, in characters (default 10000; Infinity for captured output). */
  max?: number;
  /** Accept '' (default: a non-empty string). */
  empty?: boolean;
  /** A pattern and what it means in words, for the message. */
  pattern?: { re: RegExp; expected: string };
}

/** A string: non-empty unless `empty`, bounded in length, optionally matching a pattern. */
export function text(options: TextOptions = {}, meaning?: Meaning) {
  const max = options.max ?? 10_000;
  const nonEmpty = !options.empty;
  let schema = z
    .string({
      error: (iss) => `expected ${nonEmpty ? 'a non-empty string' : 'a string'}, got ${describeValue(iss.input)}`,
    })
    .min(nonEmpty ? 1 : 0, { error: (iss) => `expected a non-empty string, got ${describeValue(iss.input)}` })
    .max(max, { error: (iss) => `${describeValue(iss.input)} is longer than the ${max} characters allowed` });
  if (options.pattern) {
    const { re, expected } = options.pattern;
    schema = schema.regex(re, { error: (iss) => `${describeValue(iss.input)} does not fit: expected ${expected}` });
  }
  return described(schema, meaning);
}

/** One of a few literal values. */
export function oneOf<const T extends readonly [string | number, ...(string | number)[]]>(
  values: T,
  meaning?: Meaning,
) {
  return described(
    z.literal(values, { error: (iss) => `${describeValue(iss.input)} is not one of ${values.join(', ')}` }),
    meaning,
  );
}

export function flag(meaning?: Meaning) {
  return described(z.boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` }), meaning);
}

/** An ISO 8601 time in UTC as Date.toISOString() writes it. */
export function isoTime(meaning?: Meaning) {
  return described(
    z.iso.datetime({
      error: (iss) => `expected a time such as 2026-01-30T12:00:00.000Z, got ${describeValue(iss.input)}`,
    }),
    meaning,
  );
}

/** An object with exactly these fields: an unknown field is a problem naming it and the known ones. */
export function strict<Shape extends z.core.$ZodLooseShape>(shape: Shape, meaning?: Meaning) {
  const known = Object.keys(shape).join(', ');
  return described(
    z.strictObject(shape, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown field (known: ${known})`
          : `expected an object, got ${describeValue(iss.input)}`,
    }),
    meaning,
  );
}

/** A list of items, with bounds on its length. */
export function list<T extends z.ZodType>(item: T, bounds: { min?: number; max: number }, meaning?: Meaning) {
  const min = bounds.min ?? 0;
  return described(
    z
      .array(item, { error: (iss) => `expected a list, got ${describeValue(iss.input)}` })
      .min(min, { error: () => (min === 1 ? 'expected a non-empty list' : `expected at least ${min} entries`) })
      .max(bounds.max, {
        error: (iss) =>
          `a list of ${Array.isArray(iss.input) ? iss.input.length : 'more'} entries is longer than the ${bounds.max} allowed`,
      }),
    meaning,
  );
}

/** A string -> value map whose keys are free text (sysctl names, detail labels). */
export function dictionary<T extends z.ZodType>(value: T, meaning?: Meaning) {
  return described(
    z.record(z.string().max(200, { error: 'a key longer than 200 characters' }), value, {
      error: (iss) => `expected an object, got ${describeValue(iss.input)}`,
    }),
    meaning,
  );
}

// ---------- problems and errors ----------

const EXPECTED: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  int: 'a whole number',
};

/** zod's own wording ("Invalid input: ..."), for schemas built without these blocks, in the project's. */
function reworded(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const union = issue as { discriminator?: unknown; options?: unknown };
  if (issue.code === 'invalid_union' && typeof union.discriminator === 'string' && Array.isArray(union.options)) {
    const value =
      typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[union.discriminator] : undefined;
    return `${describeValue(value)} is not one of ${union.options.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input'))
    return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
  return issue.message;
}

/**
 * Every issue of a failed parse as a Problem; an unknown-field issue becomes one problem per field,
 * and zod's own messages (a discriminated union's unknown kind, a wrong type) are worded like ours.
 */
export function problemsOf(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: fieldPath([...issue.path, key]), message: issue.message });
      continue;
    }
    problems.push({ path: fieldPath(issue.path), message: reworded(issue) });
  }
  return problems;
}

/** `header: path: message` for one problem, a list under `header:` for several. */
export function formatProblems(header: string, problems: readonly Problem[]): string {
  const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  if (problems.length > MAX_LISTED_PROBLEMS)
    lines.push(`... and ${problems.length - MAX_LISTED_PROBLEMS} more problems`);
  return lines.length === 1 ? `${header}: ${lines[0]}` : `${header}:\n  - ${lines.join('\n  - ')}`;
}

/** The parsed value, or `makeError` of a message listing every problem under `header`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  header: string,
  makeError: (message: string) => Error,
): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw makeError(formatProblems(header, problemsOf(result.error)));
}

/**
 * JSON.parse, with an error that says where and why but quotes at most a short escaped excerpt of
 * the text (V8's own message quotes the bytes around the error verbatim). `makeError` gets that
 * reason and words the error (naming the file).
 */
export function parseJson(text: string, makeError: (reason: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw makeError(jsonSyntaxReason((e as Error).message));
  }
}

/** V8's JSON.parse message with its quoted excerpt cut short and escaped. */
export function jsonSyntaxReason(message: string): string {
  const token = /^Unexpected token '([\s\S]*?)', ([\s\S]*) is not valid JSON$/.exec(message);
  if (token) {
    const near = token[2]!.replace(/^(\.\.\.)?"/, '').replace(/"(\.\.\.)?$/, '');
    return `unexpected ${JSON.stringify(token[1])} near ${JSON.stringify(near.slice(0, 24))}`;
  }
  if (/^Unexpected end of JSON input/.test(message)) return 'it ends in the middle of a value';
  // The other messages name a position and no text ("... in JSON at position 7 (line 1 column 8)").
  return message.replace(/"[\s\S]*"/g, '...').slice(0, 200);
}

// ---------- format versions ----------

/** Turns a document of version n into one of version n + 1 (formatVersion is then set by the caller). */
export type Upgrade = (older: Record<string, unknown>) => Record<string, unknown>;

/**
 * A document format with a version. `current` is what this code writes and reads; `upgrades[n]`
 * turns a version-n document into version n + 1, so a reader of version N reads N - 1 (and older,
 * as far as the chain goes) through explicit steps, as flent's resultset reads its older files.
 * When a format changes: bump `current`, add `upgrades[current - 1]`, and test it on a document
 * of the old version.
 */
export interface VersionedFormat {
  current: number;
  upgrades: Readonly<Record<number, Upgrade>>;
}

/** The formatVersion field of a format: a newer version than `current` is refused with advice. */
export function formatVersionField(current: number) {
  return z
    .number({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
    .int({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
    .min(1, { error: (iss) => `${describeValue(iss.input)} is not a format version: expected 1 to ${current}` })
    .max(current, {
      error: (iss) => `${describeValue(iss.input)} is newer than this virtnet reads (${current}); upgrade virtnet`,
    })
    .meta({
      description: `The version of the format (${current}); a reader upgrades older versions and refuses newer ones.`,
    });
}

function oldestReadable(format: VersionedFormat): number {
  let oldest = format.current;
  while (format.upgrades[oldest - 1]) oldest--;
  return oldest;
}

/** `schema` (the current version) preceded by the upgrade of an older document. */
export function versioned<S extends z.ZodType>(schema: S, format: VersionedFormat) {
  return z.preprocess((input, ctx) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
    const version = (input as Record<string, unknown>).formatVersion;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version === format.current)
      return input;
    if (version > format.current) {
      // Only this: the other fields of a newer format are not this code's to judge.
      ctx.addIssue({
        code: 'custom',
        path: ['formatVersion'],
        message: `${version} is newer than this virtnet reads (${format.current}); upgrade virtnet`,
        input: version,
      });
      return z.NEVER;
    }
    const oldest = oldestReadable(format);
    if (version < oldest) {
      ctx.addIssue({
        code: 'custom',
        path: ['formatVersion'],
        message: `${version} is older than any format this virtnet reads (${oldest} to ${format.current})`,
        input: version,
      });
      return z.NEVER;
    }
    let doc = input as Record<string, unknown>;
    for (let v = version; v < format.current; v++) doc = { ...format.upgrades[v]!(doc), formatVersion: v + 1 };
    return doc;
  }, schema);
}
