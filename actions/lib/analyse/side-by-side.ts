// Every environment of a run side by side: what it is, how fast it started, its round trip, its
// throughput where the paper's curves have their shapes, and what the server side spent in CPU per
// gigabyte delivered, with what this testbed could and could not show beside the table. The view
// for comparing today's sandboxes (gVisor, rootless Podman, a microVM) with the paper's four.
// Pure: the manifest and the headline metrics in, a table and its notes out.

import type { Manifest } from '../measure/records.ts';
import type { PointSummary } from './aggregate.ts';
import { own } from '../core/own.ts';
import { environmentTitle } from './environment-names.ts';
import type { Headline, HeadlineMetric, HeadlineValue } from './headline.ts';
import type { Table } from './tables.ts';

/** The metrics shown, in order, with their column titles. */
const COLUMNS: readonly [HeadlineMetric, string][] = [
  ['rtt', 'TCP_RR round trip (us)'],
  ['tcp-mean', 'TCP 0-6000 B (10^6 bits/s)'],
  ['tcp-plateau', 'TCP plateau (10^6 bits/s)'],
  ['udp-small', 'UDP up to 1400 B (10^6 bits/s)'],
  ['udp-large', 'UDP from 1500 B (10^6 bits/s)'],
  ['tcp-cpu', 'server CPU-s per GB, TCP'],
  ['udp-cpu', 'server CPU-s per GB, UDP'],
];

const digits = (x: number) => (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);

/** "92.1 [91.8, 92.4]", or the value alone without an interval; "-" where the run has no such metric. */
export function metricCell(v: HeadlineValue | undefined): string {
  if (v === undefined) return '-';
  const d = digits(v.value);
  const value = v.value.toFixed(d);
  return v.low === null || v.high === null ? value : `${value} [${v.low.toFixed(d)}, ${v.high.toFixed(d)}]`;
}

/** "docker: runtime runsc, network bridge"; the base alone when it takes no options; "(not recorded)" before variants. */
export function whatItIs(variant: { base: string; options: Record<string, string> } | undefined): string {
  if (!variant) return '(not recorded)';
  const options = Object.entries(variant.options).sort(([a], [b]) => a.localeCompare(b));
  return options.length === 0 ? variant.base : `${variant.base}: ${options.map(([k, v]) => `${k} ${v}`).join(', ')}`;
}

/** Why an environment has no value at a point: every replicate flagged or failed, or none measured. */
function whyNoValue(p: PointSummary | undefined): string {
  if (p === undefined) return 'not measured';
  if (p.flagged > 0 && p.failed === 0) return 'every replicate flagged as disturbed';
  if (p.failed > 0 && p.flagged === 0) return 'every replicate failed';
  return p.flagged + p.failed > 0 ? 'every replicate flagged or failed' : 'not measured';
}

/**
 * The points every environment of the table has a value at, and a sentence for each point left
 * out: a mean over 0-1400 B without the 50 B point is not the same quantity as one with it, so
 * the rows are made of the same points or they do not compare.
 */
export function sharedPoints(
  points: readonly PointSummary[],
  environments: readonly string[],
): { points: PointSummary[]; leftOut: string[] } {
  const byKey = new Map<string, Map<string, PointSummary>>();
  for (const p of points) {
    if (!environments.includes(p.environment)) continue;
    const perEnvironment = byKey.get(p.pointId) ?? new Map<string, PointSummary>();
    perEnvironment.set(p.environment, p);
    byKey.set(p.pointId, perEnvironment);
  }
  const leftOut: string[] = [];
  const missing = new Set<string>();
  for (const [pointId, perEnvironment] of byKey) {
    const lacking = environments.filter((e) => (perEnvironment.get(e)?.throughput.n ?? 0) === 0);
    if (lacking.length === 0 || lacking.length === environments.length) continue;
    missing.add(pointId);
    leftOut.push(`${pointId}: ${lacking.map((e) => `${e} (${whyNoValue(perEnvironment.get(e))})`).join(', ')}`);
  }
  return { points: points.filter((p) => !missing.has(p.pointId)), leftOut: leftOut.sort() };
}

export function sideBySideTable(m: Manifest, headline: Headline, order: readonly string[]): Table {
  const byEnvironment = new Map(headline.map((h) => [h.environment, h.metrics]));
  const rows = order
    .filter((e) => byEnvironment.has(e))
    .map((e) => {
      const d = own(m.environmentDescriptions, e);
      const metrics = byEnvironment.get(e)!;
      const startup = d?.startupSeconds;
      return [
        environmentTitle(e, d?.accelerator),
        whatItIs(d?.variant),
        typeof startup === 'number' ? startup.toFixed(2) : '-',
        ...COLUMNS.map(([metric]) => metricCell(metrics[metric])),
      ];
    });
  return {
    id: 'side-by-side',
    title:
      'Every environment side by side: start-up (s), round trip, throughput (mean [95% interval]) and the server CPU spent per 10^9 bytes delivered',
    columns: ['Environment', 'What it is', 'Start-up (s)', ...COLUMNS.map(([, title]) => title)],
    rows,
  };
}

/**
 * What the table can and cannot show on this run: the guests under emulation, the link's
 * capacity hiding differences in throughput, the round trip including the delay line, and what the
 * CPU cost leaves out. One sentence each, only those that apply.
 */
export function sideBySideNotes(
  m: Manifest,
  headline: Headline,
  order: readonly string[],
  capacityMbit: number | null,
  leftOut: readonly string[] = [],
): string[] {
  const notes: string[] = [];
  if (leftOut.length > 0)
    notes.push(
      `Every row is made of the same points; left out of every row, because an environment has no value there: ${leftOut.join('; ')}.`,
    );
  const inOrder = order.flatMap((e) => headline.filter((h) => h.environment === e));
  const tcg = inOrder.map((h) => h.environment).filter((e) => own(m.environmentDescriptions, e)?.accelerator === 'tcg');
  if (tcg.length > 0)
    notes.push(
      `${tcg.join(', ')} ran under QEMU's TCG software emulation (this machine has no hardware virtualisation): their start-up, round trip, throughput and CPU cost are those of emulation, not of KVM, and compare only with each other.`,
    );
  if (capacityMbit !== null) {
    const atCapacity = inOrder
      .filter((h) => (h.metrics['tcp-plateau']?.value ?? 0) >= 0.97 * capacityMbit)
      .map((h) => h.environment);
    if (atCapacity.length > 1)
      notes.push(
        `${atCapacity.join(', ')} reach at least 97% of the link's ${capacityMbit.toFixed(2)} x 10^6 bits/s TCP goodput on the plateau: there the link, not the environment, sets the throughput, so what isolation costs shows in the CPU per gigabyte and the round trip, not in the throughput.`,
      );
  }
  const delay = m.link?.oneWayDelayMicroseconds ?? 0;
  if (delay > 0)
    notes.push(
      `Every round trip includes the testbed's delay line, ${delay} us each way: differences between environments are what is left above ${2 * delay} us.`,
    );
  if (headline.some((h) => h.metrics['tcp-cpu'] !== undefined || h.metrics['udp-cpu'] !== undefined))
    notes.push(
      "The CPU cost is the environment's own processes and cgroup over each measurement (README: CPU cost), not the client's netperf or the delay line; packet processing the kernel runs in softirq outside that scope (a veth or bridge hop on the sending side) is recorded beside it, not added, so a container's network path can cost more than its column says.",
    );
  return notes;
}
