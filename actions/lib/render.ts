// Vega-Lite spec -> SVG with vega in Node, headless and deterministic: no canvas (so text is
// measured by vega's estimator, the same on every machine) and no randomness in the spec.

import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View, type Spec as VegaSpec } from 'vega';

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
const MAX_TEMPLATES = 64;

function splitSpec(spec: TopLevelSpec) {
  const { data, title, ...shape } = spec as TopLevelSpec & { data?: { values?: unknown[] }; title?: unknown };
  const cacheable = data !== undefined && Array.isArray(data.values) && Object.keys(data).length === 1;
  const t = title === undefined ? null : typeof title === 'string' ? { text: title, subtitle: null } : (title as { text: unknown; subtitle?: unknown });
  const titleIsPlain = t === null || (typeof t.text === 'string' && (t.subtitle === undefined || t.subtitle === null || typeof t.subtitle === 'string' || Array.isArray(t.subtitle)));
  return { shape, title, values: cacheable ? data!.values! : null, text: t?.text ?? null, subtitle: t?.subtitle ?? null, cacheable: cacheable && titleIsPlain };
}

/**
 * Vega-Lite compilation and vega parsing are most of a chart's rendering time, and a report draws
 * the same chart kinds over and over with other data and titles. So: compile and parse once per
 * spec shape (the spec without its inline data and title), with the data as a named dataset and the
 * title texts as signals; each chart then gets a fresh view of that parse with its own data and
 * titles. A fresh view per chart keeps the SVG a function of the spec alone (a reused view orders
 * entering marks by history, which would make the bytes depend on what was drawn before).
 */
function template(spec: TopLevelSpec): { key: string; entry: Template; values: unknown[]; text: unknown; subtitle: unknown } | null {
  const parts = splitSpec(spec);
  if (!parts.cacheable || parts.values === null) return null;
  const key = JSON.stringify(parts.shape);
  let entry = templates.get(key);
  if (!entry) {
    const compiled = compile({ ...parts.shape, ...(parts.title === undefined ? {} : { title: parts.title }), data: { name: SOURCE } } as TopLevelSpec).spec as VegaSpec & { title?: Record<string, unknown> };
    if (!compiled.data?.some((d) => d.name === SOURCE)) return null;
    if (compiled.title && typeof compiled.title === 'object') {
      compiled.signals = [...(compiled.signals ?? []), { name: TITLE, value: parts.text }, { name: SUBTITLE, value: parts.subtitle }];
      compiled.title = { ...compiled.title, text: { signal: TITLE }, ...(parts.subtitle === null ? {} : { subtitle: { signal: SUBTITLE } }) };
    }
    entry = { runtime: parse(compiled) };
    templates.set(key, entry);
    if (templates.size > MAX_TEMPLATES) templates.delete(templates.keys().next().value!);
  }
  return { key, entry, values: parts.values, text: parts.text, subtitle: parts.subtitle };
}

/** The Vega spec of a Vega-Lite spec, data inline (for tests and tools). */
export function compileToVega(spec: TopLevelSpec): VegaSpec {
  return compile(spec).spec;
}

async function draw(spec: TopLevelSpec): Promise<string> {
  const t = template(spec);
  if (t === null) {
    const view = new View(parse(compile(spec).spec), { renderer: 'none' });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }
  const view = new View(t.entry.runtime, { renderer: 'none' });
  try {
    view.data(SOURCE, t.values as object[]);
    if (t.text !== null) view.signal(TITLE, t.text);
    if (t.subtitle !== null) view.signal(SUBTITLE, t.subtitle);
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// Draws one at a time per thread: it is single-threaded work anyway, and it keeps memory flat.
let queue: Promise<unknown> = Promise.resolve();

export function renderSvg(spec: TopLevelSpec): Promise<string> {
  const next = queue.then(async () => `${normalizeSvgIds(await draw(spec))}\n`);
  queue = next.catch(() => {});
  return next;
}
