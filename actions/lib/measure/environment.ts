// The contract every environment implements. The sweep only ever sees this interface: adding an
// environment means one folder under env/ and one line in env/registry.ts.

import { InputError, quoted } from '../core/input.ts';
import type { Endpoint } from './netperf.ts';
import type { EnvironmentDescription } from './records.ts';

export interface EnvironmentContext {
  /** The server's testbed address: where netserver (or its port map) must answer. */
  serverAddress: string;
  ports: { control: number; data: number };
  /** Where the environment keeps console logs and build products of this run. */
  logDir: string;
  /** True once a netperf control connection to the endpoint succeeds from the client side. */
  probe: (endpoint: Endpoint) => Promise<boolean>;
  /** How long the environment may take to become ready. */
  readyTimeoutMs: number;
  /** Environment-specific settings (an OSv image path, an accelerator override, ...). */
  settings: Record<string, string>;
  log: (message: string) => void;
  signal?: AbortSignal;
}

export interface CpuScope {
  cgroups: readonly string[];
  pids: readonly number[];
}

export interface StartedEnvironment {
  endpoint: Endpoint;
  description: EnvironmentDescription;
  /**
   * Processes on the measured path that are not this process's descendants (a container's
   * netserver, under containerd): their wait for a CPU is watched during each measurement.
   */
  pathPids?: () => readonly number[];
  /**
   * What the server side of this environment runs as, for its CPU cost per measurement: cgroups whose
   * whole CPU usage counts (cgroup v1 cpuacct paths relative to the cpuacct hierarchy, e.g.
   * `docker/<id>`, or cgroup v2 paths), and PIDs whose threads' utime+stime count (processes with no
   * cgroup of their own: a native netserver, a guest's QEMU). Asked at each measurement's start.
   */
  cpuScope?: () => CpuScope;
  /** Idempotent; safe to call after a failed start. */
  stop(): Promise<void>;
}

export type Availability = { ok: true } | { ok: false; reason: string };

export interface EnvironmentDriver {
  /** The name used on the command line and in records: native, docker, kvm, osv. */
  name: string;
  /** The name used in charts and tables. */
  title: string;
  /** Whether this machine can run it, and if not, why (shown to the user, used as a test skip message). */
  available(settings: Record<string, string>): Promise<Availability>;
  start(context: EnvironmentContext): Promise<StartedEnvironment>;
  /**
   * Removes whatever a killed run left behind, found by the project's own names and PIDs; returns
   * what it removed. `onlyIndex`: only what served that testbed (`virtnet cleanup --index N`).
   */
  cleanup(onlyIndex?: number | null): Promise<string[]>;
}

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
  /** A console log kept for the user when an environment fails to start. */
  readonly logFile: string | null;
  constructor(message: string, logFile: string | null = null) {
    super(logFile ? `${message} (console log: ${logFile})` : message);
    this.logFile = logFile;
  }
}

/** What may be asked of a QEMU guest's accelerator: auto (KVM only where the CPU has vmx/svm), kvm or tcg. */
export const ACCELERATOR_REQUESTS = ['auto', 'kvm', 'tcg'] as const;
export type AcceleratorRequest = (typeof ACCELERATOR_REQUESTS)[number];

/** The accelerator request in `text`, or an InputError naming `field`. */
export function acceleratorRequest(field: string, text: string): AcceleratorRequest {
  const found = ACCELERATOR_REQUESTS.find((a) => a === text);
  if (found === undefined) throw new InputError(field, `expected auto, kvm or tcg, got ${quoted(text)}`);
  return found;
}
