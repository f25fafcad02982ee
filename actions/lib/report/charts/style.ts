// One look for every chart: one colour per environment (Okabe-Ito, safe for colour-blind readers
// and distinct in greyscale print through the per-environment point shapes), fixed fonts and sizes.

import type { Parameter } from '../../plan/plan.ts';
import { oneLine } from '../../core/escape.ts';
import { own } from '../../core/own.ts';
import { ENVIRONMENT_ORDER, environmentTitle } from '../../analyse/environment-names.ts';

/** x-axis titles by swept parameter, the same on every chart. */
export const PARAMETER_AXIS_TITLE: Record<Parameter, string> = {
  sendSocketSize: 'Send socket size requested, -s (bytes)',
  messageSize: 'UDP message size, -m (bytes)',
  requestSize: 'UDP datagram size requested, -r (bytes)',
};

export interface EnvironmentStyle {
  color: string;
  shape: string;
  dash: number[];
}

// A Map, not an object: environment names are outside text, and a name such as "constructor" or
// "toString" must not find a property of Object.prototype.
export const ENVIRONMENT_STYLE: ReadonlyMap<string, EnvironmentStyle> = new Map([
  ['native', { color: '#000000', shape: 'circle', dash: [] }],
  ['docker', { color: '#0072B2', shape: 'square', dash: [6, 3] }],
  ['kvm', { color: '#D55E00', shape: 'triangle-up', dash: [2, 2] }],
  ['osv', { color: '#009E73', shape: 'diamond', dash: [8, 2, 2, 2] }],
]);

const FALLBACK_COLORS = ['#E69F00', '#56B4E9', '#CC79A7', '#F0E442'];

/**
 * An environment as charts name it (data values, legends), which vega-lite also writes into vega
 * expressions (a merged legend's values, a sort), as string literals. vega-expression 6 reads a
 * literal that names a property of Object.prototype ("constructor", "toString", ...) or "if" as an
 * identifier (its keyword table is a plain object), and refuses a literal holding U+2028 or U+2029
 * (line terminators to its ES5 scanner): either made the chart fail to render. So a label is on one
 * line with control and line-separator characters spelled out (core/escape.ts), and those names are
 * labelled "<name> (environment)". Pages and tables show names as they are.
 */
export function environmentLabel(name: string, accelerator?: string): string {
  const title = oneLine(environmentTitle(name, accelerator));
  return title === 'if' || title in Object.prototype ? `${title} (environment)` : title;
}

/** Colour, shape and dash scales for the environments present, in the canonical order. */
export function environmentScales(present: readonly string[], accelerators: Readonly<Record<string, string>> = {}) {
  const known = ENVIRONMENT_ORDER.filter((e) => present.includes(e));
  const extra = present.filter((e) => !(ENVIRONMENT_ORDER as readonly string[]).includes(e)).sort();
  const domain = [...known, ...extra].map((e) => environmentLabel(e, own(accelerators, e)));
  // Others (variants such as docker-host) take the fallback colours in name order, counted among
  // themselves, so a variant keeps its colour whichever of the four ran beside it.
  const style = (i: number, name: string): EnvironmentStyle =>
    ENVIRONMENT_STYLE.get(name) ?? {
      color: FALLBACK_COLORS[(i - known.length) % FALLBACK_COLORS.length]!,
      shape: 'cross',
      dash: [1, 1],
    };
  const names = [...known, ...extra];
  return {
    domain,
    color: { domain, range: names.map((n, i) => style(i, n).color) },
    shape: { domain, range: names.map((n, i) => style(i, n).shape) },
    dash: { domain, range: names.map((n, i) => style(i, n).dash) },
  };
}

export const CHART_CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', labelLimit: 240 },
  title: { fontSize: 14, anchor: 'start' },
  view: { stroke: '#cccccc' },
} as const;
