// The run's data model: manifest and measurement records, and their validation on read. Pure.

import type { NetperfMetrics } from './netperf.ts';
import type { Parameter, Plan, TestName } from '../plan/plan.ts';

export const RESULTS_FORMAT_VERSION = 1;

export interface HostInfo {
  role: 'client' | 'server';
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  distribution: string;
  netperfVersion: string;
  /** net.core.rmem_max, wmem_max, tcp_rmem, tcp_wmem, ... as read from /proc/sys. */
  sysctls: Record<string, string>;
  /** Hardware virtualization flags seen on the CPU (vmx, svm): decides KVM vs TCG. */
  virtualizationFlags: string[];
}

export interface LinkDescription {
  kind: 'veth-testbed' | 'external';
  /** Shaping as configured, e.g. "tbf rate 100mbit, stab overhead 24, gso_max_segs 1", or "none". */
  shaping: string;
  rateMbit: number | null;
  serverAddress: string;
  clientAddress: string | null;
  clientNamespace: string | null;
  /**
   * One-way delay the testbed's delay line adds in each direction, in microseconds (0: none).
   * Absent in runs recorded before the delay line existed, which had none.
   */
  oneWayDelayMicroseconds?: number;
}

export interface EnvironmentDescription {
  name: string;
  /** One line for tables: "Docker 20.10.24, bridge network, image sha256:...". */
  summary: string;
  /** Versions and settings: free-form key -> value, shown in Table 3. */
  details: Record<string, string>;
  /** How the guest is accelerated: "none" for native and docker, "kvm" or "tcg" for QEMU guests. */
  accelerator: 'none' | 'kvm' | 'tcg';
  startupSeconds: number | null;
}

export interface Session {
  startedAt: string;
  endedAt: string | null;
  /** How the session ended: completed, or the signal/error that stopped it; null while running. */
  endReason: string | null;
  measuredInSession: number;
}

export interface Manifest {
  formatVersion: number;
  kind: 'virtnet-run';
  runId: string;
  createdAt: string;
  updatedAt: string;
  status: 'running' | 'complete' | 'incomplete' | 'interrupted';
  git: { commit: string | null; dirty: boolean | null; branch: string | null; subject: string | null };
  planSource: string;
  plan: Plan;
  environments: string[];
  hosts: { client: HostInfo | null; server: HostInfo | null };
  link: LinkDescription | null;
  environmentDescriptions: Record<string, EnvironmentDescription>;
  /** Every start and stop of the run: more than one means it was interrupted and resumed. */
  sessions: Session[];
  /** Errors that stopped an environment (it never became ready, ...): environment -> message. */
  environmentErrors: Record<string, string>;
}

export interface MeasurementRecord {
  formatVersion: number;
  environment: string;
  pointId: string;
  test: TestName;
  series: string;
  parameter: Parameter;
  value: number;
  replicate: number;
  status: 'ok' | 'failed';
  attempts: number;
  startedAt: string;
  finishedAt: string;
  command: string[];
  stdout: string;
  stderr: string;
  error: string | null;
  metrics: NetperfMetrics | null;
}

export class RunFormatError extends Error {
  override name = 'RunFormatError';
}

const RECORD_FIELDS: Record<keyof MeasurementRecord, string> = {
  formatVersion: 'number', environment: 'string', pointId: 'string', test: 'string', series: 'string',
  parameter: 'string', value: 'number', replicate: 'number', status: 'string', attempts: 'number',
  startedAt: 'string', finishedAt: 'string', command: 'object', stdout: 'string', stderr: 'string',
  error: 'string|null', metrics: 'object|null',
};

/** Validates one parsed results.jsonl line; `where` names file and line for the message. */
export function validateRecord(value: unknown, where: string): MeasurementRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RunFormatError(`${where}: expected a JSON object`);
  const r = value as Record<string, unknown>;
  if (typeof r.formatVersion === 'number' && r.formatVersion > RESULTS_FORMAT_VERSION) {
    throw new RunFormatError(`${where}: formatVersion ${r.formatVersion} is newer than this virtnet reads (${RESULTS_FORMAT_VERSION}); upgrade virtnet`);
  }
  for (const [key, type] of Object.entries(RECORD_FIELDS)) {
    const v = r[key];
    const actual = v === null ? 'null' : typeof v;
    if (!type.split('|').includes(actual)) throw new RunFormatError(`${where}: field ${key} should be ${type}, got ${JSON.stringify(v)}`);
  }
  if (r.status !== 'ok' && r.status !== 'failed') throw new RunFormatError(`${where}: status ${JSON.stringify(r.status)} is not ok or failed`);
  if (r.status === 'ok' && (r.metrics === null || typeof (r.metrics as Record<string, unknown>).throughputMbps !== 'number')) {
    throw new RunFormatError(`${where}: an ok record needs metrics.throughputMbps`);
  }
  if (!Array.isArray(r.command)) throw new RunFormatError(`${where}: field command should be a list`);
  return r as unknown as MeasurementRecord;
}

export interface ParsedResults {
  records: MeasurementRecord[];
  /** A last line cut short by a crash mid-write: reported, then ignored. */
  truncatedLastLine: number | null;
}

/**
 * Parses results.jsonl. A malformed last line without a newline is a crash mid-write: it is
 * reported and skipped, since everything before it was flushed whole. A malformed line anywhere
 * else is corruption and an error naming its line number.
 */
export function parseResults(text: string, file = 'results.jsonl'): ParsedResults {
  const records: MeasurementRecord[] = [];
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  let truncatedLastLine: number | null = null;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const lineNo = i + 1;
    const isLast = i === lines.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      if (isLast && !endsWithNewline) {
        truncatedLastLine = lineNo;
        return;
      }
      throw new RunFormatError(`${file} line ${lineNo}: not valid JSON (${(e as Error).message})`);
    }
    records.push(validateRecord(parsed, `${file} line ${lineNo}`));
  });
  return { records, truncatedLastLine };
}

export function validateManifest(value: unknown, file = 'manifest.json'): Manifest {
  if (typeof value !== 'object' || value === null) throw new RunFormatError(`${file}: expected a JSON object`);
  const m = value as Record<string, unknown>;
  if (m.kind !== 'virtnet-run') throw new RunFormatError(`${file}: kind is ${JSON.stringify(m.kind)}, not "virtnet-run": this is not a virtnet run`);
  if (typeof m.formatVersion !== 'number') throw new RunFormatError(`${file}: formatVersion missing`);
  if (m.formatVersion > RESULTS_FORMAT_VERSION) throw new RunFormatError(`${file}: formatVersion ${m.formatVersion} is newer than this virtnet reads (${RESULTS_FORMAT_VERSION}); upgrade virtnet`);
  for (const key of ['runId', 'createdAt', 'planSource', 'status'] as const) {
    if (typeof m[key] !== 'string') throw new RunFormatError(`${file}: field ${key} should be a string, got ${JSON.stringify(m[key])}`);
  }
  for (const key of ['environments', 'sessions'] as const) {
    if (!Array.isArray(m[key])) throw new RunFormatError(`${file}: field ${key} should be a list`);
  }
  for (const key of ['plan', 'hosts', 'environmentDescriptions', 'environmentErrors', 'git'] as const) {
    if (typeof m[key] !== 'object' || m[key] === null) throw new RunFormatError(`${file}: field ${key} should be an object`);
  }
  return m as unknown as Manifest;
}

/** The latest record per (environment, point, replicate): a resumed or retried task counts once. */
export function latestRecords(records: readonly MeasurementRecord[]): MeasurementRecord[] {
  const byKey = new Map<string, MeasurementRecord>();
  for (const r of records) byKey.set(`${r.environment}|${r.pointId}|${r.replicate}`, r);
  return [...byKey.values()];
}
