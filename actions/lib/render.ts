// Vega-Lite spec -> SVG with vega in Node, headless and deterministic: no canvas (so text is
// measured by vega's estimator, the same on every machine) and no randomness in the spec.

import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

/**
 * Vega numbers clip paths and gradients with a counter global to the process (vega issues 2573,
 * 2574), so the same chart renders with different ids depending on what was drawn before.
 * Renumber them per SVG in order of first appearance.
 */
export function normalizeSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  return svg.replace(/\b(clip|gradient|pattern)(\d+)\b/g, (whole, kind: string) => {
    let next = ids.get(whole);
    if (next === undefined) {
      next = `${kind}${[...ids.keys()].filter((k) => k.startsWith(kind)).length + 1}`;
      ids.set(whole, next);
    }
    return next;
  });
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return `${normalizeSvgIds(svg)}\n`;
  } finally {
    view.finalize();
  }
}
