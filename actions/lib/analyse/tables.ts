// Tables 2 and 3 of the paper (server hardware; software versions), generated from the manifest for
// both hosts, plus the testbed link. Pure: manifest in, rows out; html/markdown rendering elsewhere.

import type { HostInfo, Manifest, MeasurementRecord } from '../measure/records.ts';
import { environmentTitle } from './environment-names.ts';
import { own } from '../core/own.ts';
import { mdText } from '../core/escape.ts';
import type { EnvironmentPrecision } from './precision.ts';

export interface Table {
  id: string;
  title: string;
  columns: string[];
  rows: string[][];
  /** Sentences shown under the table: what it can and cannot show. */
  notes?: string[];
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
const or = (v: string | number | null | undefined) =>
  v === null || v === undefined || v === '' ? '(not recorded)' : String(v);

function hostCell(h: HostInfo | null, pick: (h: HostInfo) => string): string {
  return h ? pick(h) : '(not recorded)';
}

/** Table 2: the hardware of both hosts (client and server). */
export function hardwareTable(m: Manifest): Table {
  const { client, server } = m.hosts;
  const row = (label: string, pick: (h: HostInfo) => string) => [label, hostCell(server, pick), hostCell(client, pick)];
  return {
    id: 'table2-hardware',
    title: 'Table 2: hardware of the server and client hosts',
    columns: ['', 'Server', 'Client'],
    rows: [
      row('Hostname', (h) => h.hostname),
      row('CPU', (h) => h.cpuModel),
      row('Cores', (h) => String(h.cores)),
      row('Memory', (h) => gib(h.memoryBytes)),
      row('Hardware virtualization', (h) =>
        h.virtualizationFlags.length ? h.virtualizationFlags.join(', ') : 'none (no vmx/svm: QEMU guests use TCG)',
      ),
    ],
  };
}

/** Table 3: software on both hosts, then each environment's versions and settings. */
export function softwareTable(m: Manifest): Table {
  const { client, server } = m.hosts;
  const row = (label: string, pick: (h: HostInfo) => string) => [label, hostCell(server, pick), hostCell(client, pick)];
  const sysctlNames = [
    ...new Set([...Object.keys(server?.sysctls ?? {}), ...Object.keys(client?.sysctls ?? {})]),
  ].sort();
  const rows = [
    row('Operating system', (h) => h.distribution),
    row('Kernel', (h) => h.kernel),
    row('netperf', (h) => h.netperfVersion),
    ...sysctlNames.map((name) => row(name, (h) => or(own(h.sysctls, name)))),
  ];
  for (const env of m.environments) {
    const d = own(m.environmentDescriptions, env);
    const title = environmentTitle(env, d?.accelerator);
    if (!d) {
      const error = own(m.environmentErrors, env);
      rows.push([title, error ? `failed: ${error}` : '(not started)', '']);
      continue;
    }
    rows.push([
      title,
      `${d.summary}; accelerator: ${d.accelerator}${d.startupSeconds !== null ? `; ready in ${d.startupSeconds.toFixed(1)} s` : ''}`,
      '',
    ]);
    for (const [k, v] of Object.entries(d.details).sort(([a], [b]) => a.localeCompare(b)))
      rows.push([`${title}: ${k}`, v, '']);
  }
  return {
    id: 'table3-software',
    title: 'Table 3: software configuration (server, client, environments)',
    columns: ['', 'Server', 'Client'],
    rows,
  };
}

/** Each environment's round-trip time: the median over its starts of each probe's mean latency. */
export function roundTripTable(
  m: Manifest,
  roundTrips: Readonly<
    Record<string, NonNullable<NonNullable<Manifest['environmentDescriptions'][string]>['roundTrip']>>
  >,
): Table {
  const us = (v: number | null, n: number) =>
    v === null ? '(no successful probe)' : `${v.toFixed(1)} us (${n} probe${n === 1 ? '' : 's'})`;
  const names = [...m.environments, ...Object.keys(roundTrips).filter((e) => !m.environments.includes(e))];
  const rows = names
    .filter((e) => Object.hasOwn(roundTrips, e))
    .map((e) => {
      const rt = roundTrips[e]!;
      return [
        environmentTitle(e, own(m.environmentDescriptions, e)?.accelerator),
        us(rt.tcpMicroseconds, rt.tcpProbes),
        us(rt.udpMicroseconds, rt.udpProbes),
      ];
    });
  return {
    id: 'round-trip-time',
    title: 'Round-trip time per environment (median over its starts of the TCP_RR / UDP_RR mean latency)',
    columns: ['Environment', 'TCP_RR', 'UDP_RR'],
    rows,
  };
}

/** "others busy 91.5% > 50%" -> "others busy > 50%": the reasons counted by the threshold crossed. */
function reasonKind(reason: string): string {
  return reason.replace(/\s+[\d.]+%?(?=\s)/, '');
}

/**
 * How many measurements of each environment were taken while the host was disturbed (flagged
 * against the plan's thresholds), and why; every record counts, re-measured ones too. Null for a
 * run recorded before the host was sampled.
 */
export function interferenceTable(
  records: readonly MeasurementRecord[],
  thresholds: Manifest['plan']['interference'],
): Table | null {
  const sampled = records.filter((r) => r.interference !== undefined);
  if (sampled.length === 0) return null;
  const environments = [...new Set(sampled.map((r) => r.environment))];
  const rows = environments.map((env) => {
    const mine = sampled.filter((r) => r.environment === env);
    const flagged = mine.filter((r) => r.interference!.flagged);
    const why = new Map<string, number>();
    for (const r of flagged)
      for (const reason of r.interference!.reasons) why.set(reasonKind(reason), (why.get(reasonKind(reason)) ?? 0) + 1);
    const remeasured = mine.filter((r) => (r.interference!.remeasurement ?? 0) > 0).length;
    const worst = Math.max(...mine.map((r) => r.interference!.othersBusyPercent));
    const steal = Math.max(...mine.map((r) => r.interference!.stealPercent));
    return [
      env,
      `${flagged.length} of ${mine.length}`,
      flagged.length === 0 ? '' : [...why].map(([k, n]) => `${k} (${n})`).join('; '),
      String(remeasured),
      `${worst}%`,
      `${steal}%`,
    ];
  });
  return {
    id: 'interference',
    title: `Host interference: measurements flagged (thresholds: steal > ${thresholds.maxStealPercent}%, others busy > ${thresholds.maxOthersBusyPercent}%, ${thresholds.maxLoadPerCore === null ? 'load recorded, not flagged' : `load beside the run's own > ${thresholds.maxLoadPerCore} per core`}${thresholds.maxWaitPercent === null ? '' : `, a process on the path waiting for a CPU > ${thresholds.maxWaitPercent}% of the time`}${thresholds.maxLateReleasePercent === null ? '' : `, delay line releases >= 100 us late > ${thresholds.maxLateReleasePercent}%`}; flagged measurements are in no mean, their points hollow on the charts)`,
    columns: ['Environment', 'Flagged', 'Why (measurements)', 'Re-measurements', 'Most busy by others', 'Most steal'],
    rows,
  };
}

/** The link between the hosts, shown prominently: the paper's was a 100 Mbit/s cable. */
export function linkSummary(m: Manifest): string {
  const l = m.link;
  if (!l) return 'link not recorded';
  if (l.kind === 'external') return `external server ${l.serverAddress}, ${l.shaping}`;
  const delay = l.oneWayDelayMicroseconds
    ? `${l.oneWayDelayMicroseconds} us one-way delay each direction (round trip +${(2 * l.oneWayDelayMicroseconds) / 1000} ms)`
    : 'no added delay';
  const cc = m.hosts?.client?.sysctls?.['net.ipv4.tcp_congestion_control'];
  return `namespace testbed: client ${or(l.clientAddress)} (netns ${or(l.clientNamespace)}) <-> server ${l.serverAddress}; ${l.rateMbit ? `${l.rateMbit} Mbit/s, ` : 'unshaped, '}${l.shaping}; ${delay}${cc ? `; client TCP congestion control ${cc}` : ''}`;
}

const percentCell = (v: number | null) =>
  v === null ? 'no interval' : Number.isFinite(v) ? `${v.toFixed(2)}%` : 'unbounded';

/** The precision reached: per environment, median and worst 95% half-width of its points, beside the plan's target. */
export function precisionTable(
  precision: readonly EnvironmentPrecision[],
  targetPercent: number | null,
  m: Pick<Manifest, 'environmentDescriptions'>,
): Table {
  return {
    id: 'precision-reached',
    title: `Precision reached: 95% CI half-width in percent of the mean, over each environment's points (${targetPercent === null ? 'the plan sets no precision target' : `the plan's target: ${targetPercent}%`})`,
    columns: ['Environment', 'Points with an interval', 'Median half-width', 'Worst half-width', 'Worst point'],
    rows: precision.map((p) => [
      environmentTitle(p.environment, own(m.environmentDescriptions, p.environment)?.accelerator),
      `${p.points - p.withoutInterval} of ${p.points}`,
      percentCell(p.medianHalfWidthPercent),
      percentCell(p.worstHalfWidthPercent),
      p.worstPoint ?? '',
    ]),
  };
}

export function tableMarkdown(t: Table): string {
  return [
    `### ${mdText(t.title)}`,
    '',
    `| ${t.columns.map(mdText).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(mdText).join(' | ')} |`),
    '',
    ...(t.notes ?? []).flatMap((n) => [mdText(n), '']),
  ].join('\n');
}
