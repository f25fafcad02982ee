// Vega-Lite spec -> SVG with vega in Node, headless and deterministic: no canvas (so text is
// measured by vega's estimator, the same on every machine) and no randomness in the spec.

import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import { parse, View, type Spec as VegaSpec } from 'vega';
import { chartNotes } from './charts/lines.ts';

/**
 * Vega numbers clip paths and gradients with a counter global to the process (vega issues 2573,
 * 2574), so the same chart renders with different ids depending on what was drawn before.
 * Renumber them per SVG in order of first appearance.
 */
export function normalizeSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  const counts = new Map<string, number>();
  return svg.replace(/\b(clip|gradient|pattern)(\d+)\b/g, (whole, kind: string) => {
    let next = ids.get(whole);
    if (next === undefined) {
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      next = `${kind}${n}`;
      ids.set(whole, next);
    }
    return next;
  });
}

const SOURCE = 'virtnet_source';
const TITLE = 'virtnet_title';
const SUBTITLE = 'virtnet_subtitle';

interface Template {
  /** The parsed runtime spec: parsing is pure, so one parse serves every view of this shape. */
  runtime: ReturnType<typeof parse>;
}

const templates = new Map<string, Template>();
// A site draws a few dozen shapes (chart kind x environments present); room for all of them.
const MAX_TEMPLATES = 256;

/** A top-level param that only holds a value (no selection, binding or expression): per-chart data in effect. */
function isValueParam(p: unknown): p is { name: string; value: unknown } {
  if (typeof p !== 'object' || p === null) return false;
  const keys = Object.keys(p).sort();
  return (
    keys.length === 2 && keys[0] === 'name' && keys[1] === 'value' && typeof (p as { name: unknown }).name === 'string'
  );
}

function splitSpec(spec: TopLevelSpec) {
  const { data, title, params, ...rest } = spec as TopLevelSpec & {
    data?: { values?: unknown[] };
    title?: unknown;
    params?: unknown[];
  };
  const cacheable = data !== undefined && Array.isArray(data.values) && Object.keys(data).length === 1;
  const t =
    title === undefined
      ? null
      : typeof title === 'string'
        ? { text: title, subtitle: null }
        : (title as { text: unknown; subtitle?: unknown });
  const titleIsPlain =
    t === null ||
    (typeof t.text === 'string' &&
      (t.subtitle === undefined || t.subtitle === null || typeof t.subtitle === 'string' || Array.isArray(t.subtitle)));
  // Value params are lifted like the title: their names stay in the shape, their values become signals.
  const values = (params ?? []).filter(isValueParam);
  const shapeParams = (params ?? []).map((p) => (isValueParam(p) ? { name: p.name, value: null } : p));
  const shape = params === undefined ? rest : { ...rest, params: shapeParams };
  return {
    shape,
    title,
    values: cacheable ? data!.values! : null,
    paramValues: values,
    text: t?.text ?? null,
    subtitle: t?.subtitle ?? null,
    cacheable: cacheable && titleIsPlain,
  };
}

/**
 * Vega-Lite compilation and vega parsing are most of a chart's rendering time, and a report draws
 * the same chart kinds over and over with other data and titles. So: compile and parse once per
 * spec shape (the spec without its inline data, title and value params), with the data as a named
 * dataset and the title texts and param values as signals; each chart then gets a fresh view of
 * that parse with its own data, titles and params. A fresh view per chart keeps the SVG a function
 * of the spec alone (a reused view orders entering marks by history, which would make the bytes
 * depend on what was drawn before).
 */
function template(spec: TopLevelSpec): {
  key: string;
  entry: Template;
  values: unknown[];
  paramValues: { name: string; value: unknown }[];
  text: unknown;
  subtitle: unknown;
} | null {
  const parts = splitSpec(spec);
  if (!parts.cacheable || parts.values === null) return null;
  const key = JSON.stringify(parts.shape);
  let entry = templates.get(key);
  if (!entry) {
    const compiled = compile({
      ...parts.shape,
      ...(parts.title === undefined ? {} : { title: parts.title }),
      data: { name: SOURCE },
    } as TopLevelSpec).spec as VegaSpec & { title?: Record<string, unknown> };
    if (!compiled.data?.some((d) => d.name === SOURCE)) return null;
    // Each lifted param must have become a top-level signal, or it could not be set per view.
    if (!parts.paramValues.every((p) => compiled.signals?.some((sig) => sig.name === p.name))) return null;
    if (compiled.title && typeof compiled.title === 'object') {
      compiled.signals = [
        ...(compiled.signals ?? []),
        { name: TITLE, value: parts.text },
        { name: SUBTITLE, value: parts.subtitle },
      ];
      compiled.title = {
        ...compiled.title,
        text: { signal: TITLE },
        ...(parts.subtitle === null ? {} : { subtitle: { signal: SUBTITLE } }),
      };
    }
    entry = { runtime: parse(compiled) };
    templates.set(key, entry);
    if (templates.size > MAX_TEMPLATES) templates.delete(templates.keys().next().value!);
  }
  return {
    key,
    entry,
    values: parts.values,
    paramValues: parts.paramValues,
    text: parts.text,
    subtitle: parts.subtitle,
  };
}

/** The Vega spec of a Vega-Lite spec, data inline (for tests and tools). */
export function compileToVega(spec: TopLevelSpec): VegaSpec {
  return compile(spec).spec;
}

type Generated = (...args: unknown[]) => unknown;
type Generator = (ctx: { functions?: object } | null, spec: { code?: string }) => Generated;

/**
 * vega's expression code generator, except that each distinct piece of generated code is turned
 * into a function once per thread instead of once per view: a view builds a few hundred of them
 * with the Function constructor, and fresh functions also start cold in the JIT. The generated
 * functions use nothing but their arguments and `this` (the view's expression functions), so one
 * function bound to each view behaves exactly like the function vega would have made for it.
 */
function compiledOnceCodegen(): object {
  // A context made without an evaluator carries vega's default one.
  // vega exports runtimeContext, but its type declarations leave it out.
  const { runtimeContext } = vega as unknown as {
    runtimeContext: (df: object, transforms: object) => { expr: Record<string, unknown> };
  };
  const base = runtimeContext({ events: () => null }, {});
  const cache = new Map<string, Generated>();
  const once =
    (kind: string, generate: Generator): Generator =>
    (ctx, spec) => {
      const key = `${kind}\u0000${kind === 'encode' ? JSON.stringify(spec) : spec.code}`;
      let fn = cache.get(key);
      if (fn === undefined) {
        fn = generate(null, spec); // no context: unbound
        cache.set(key, fn);
      }
      // Always a fresh bound copy: vega attaches properties (fields, names) to what it gets.
      return fn.bind(ctx?.functions);
    };
  const out: Record<string, unknown> = { ...base.expr };
  for (const kind of ['operator', 'parameter', 'event', 'handler', 'encode']) {
    if (typeof base.expr[kind] !== 'function')
      throw new Error(
        `vega's expression code generator has no ${kind}(): the renderer needs updating for this vega version`,
      );
    out[kind] = once(kind, base.expr[kind] as Generator);
  }
  return out;
}

let codegen: object | null = null;

function newView(runtime: ReturnType<typeof parse>): View {
  codegen ??= compiledOnceCodegen();
  return new View(runtime, { renderer: 'none', expr: codegen } as ConstructorParameters<typeof View>[1]);
}

async function draw(spec: TopLevelSpec): Promise<string> {
  const t = template(spec);
  if (t === null) {
    const view = newView(parse(compile(spec).spec));
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }
  const view = newView(t.entry.runtime);
  try {
    view.data(SOURCE, t.values as object[]);
    for (const p of t.paramValues) view.signal(p.name, p.value);
    if (t.text !== null) view.signal(TITLE, t.text);
    if (t.subtitle !== null) view.signal(SUBTITLE, t.subtitle);
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// Draws one at a time per thread: it is single-threaded work anyway, and it keeps memory flat.
let queue: Promise<unknown> = Promise.resolve();

/**
 * The chart's notes (what its marks mean, charts/lines.ts) go into the SVG as its <desc>: the page
 * shows them under the chart, and an SVG opened on its own still says them. They are kept out of
 * the drawn spec, so charts that differ only in their notes share one template.
 */
function withDescription(svg: string, notes: readonly string[]): string {
  if (notes.length === 0) return svg;
  const text = notes.join('; ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return svg.replace(/^(<svg\b[^>]*>)/, `$1<desc>${text}</desc>`);
}

export function renderSvg(spec: TopLevelSpec): Promise<string> {
  const notes = chartNotes(spec);
  const {
    usermeta: _meta,
    description: _description,
    ...drawn
  } = spec as TopLevelSpec & { usermeta?: unknown; description?: unknown };
  const next = queue.then(
    async () => `${withDescription(normalizeSvgIds(await draw(drawn as TopLevelSpec)), notes)}\n`,
  );
  queue = next.catch(() => {});
  return next;
}
