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
const templates = new Map<string, VegaSpec>();

/**
 * Vega-Lite compilation is a third of a chart's rendering time, and a report draws the same chart
 * kinds over and over with other data and titles. Compile once per spec shape (the spec without
 * its inline data and title), then put the data and title into a copy of the compiled spec.
 */
export function compileToVega(spec: TopLevelSpec): VegaSpec {
  const { data, title, ...shape } = spec as TopLevelSpec & { data?: { values?: unknown[] }; title?: unknown };
  if (!data || !Array.isArray(data.values) || Object.keys(data).length !== 1) return compile(spec).spec;
  const key = JSON.stringify(shape);
  let template = templates.get(key);
  if (!template) {
    template = compile({ ...shape, ...(title === undefined ? {} : { title }), data: { name: SOURCE } } as TopLevelSpec).spec;
    templates.set(key, template);
    if (templates.size > 500) templates.delete(templates.keys().next().value!);
  }
  const copy = structuredClone(template) as VegaSpec & { title?: Record<string, unknown> | string };
  const source = copy.data?.find((d) => d.name === SOURCE);
  if (!source) return compile(spec).spec;
  (source as { values?: unknown[] }).values = data.values;
  if (title !== undefined) {
    const t = typeof title === 'string' ? { text: title } : (title as unknown as Record<string, unknown>);
    copy.title = typeof copy.title === 'object' && copy.title !== null ? { ...copy.title, ...t } : (title as string);
  }
  return copy;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compileToVega(spec)), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return `${normalizeSvgIds(svg)}\n`;
  } finally {
    view.finalize();
  }
}
