// A run -> its analysis: per-point aggregates, throughput relative to native, the restricted-range
// averages and areas, UDP delivery, the claims judged, the precision reached, round trips and the
// window model, and the paper's tables. Pure: the report, the site and the actions draw from it.

import { summarizePoints, type PointSummary } from './aggregate.ts';
import {
  environmentsOf,
  relativeThroughput,
  restrictedAverage,
  signedAreas,
  socketSizes,
  udpAnomalies,
  udpDelivery,
  type UdpAnomaly,
  type RangeAverage,
  type RelativePoint,
  type SignedArea,
  type SocketSizeRow,
  type UdpDelivery,
} from './analysis.ts';
import { orderedEnvironments } from './environment-names.ts';
import { precisionReached, type EnvironmentPrecision } from './precision.ts';
import { claimsScope, judgeClaims, type ClaimResult, type ClaimsScope } from './claims/judge.ts';
import type { ClaimsFile } from './claims/schema.ts';
import { tcpGoodputCapacityMbit } from './capacity.ts';
import { windowModel, type WindowModelRow } from './window-model.ts';
import {
  hardwareTable,
  interferenceTable,
  precisionTable,
  roundTripTable,
  softwareTable,
  type Table,
} from './tables.ts';
import { headlineMetrics } from './headline.ts';
import { sharedPoints, sideBySideNotes, sideBySideTable } from './side-by-side.ts';
import type { Manifest, MeasurementRecord, RttProbeRecord } from '../measure/records.ts';
import { type RoundTrip, roundTripOf } from '../measure/round-trip.ts';
import { own } from '../core/own.ts';

/** The paper's restricted socket range for Fig. 5/7 and the Discussion's areas. */
export const RESTRICTED_RANGE: [number, number] = [0, 6000];

export interface RunAnalysis {
  environments: string[];
  points: PointSummary[];
  relative: RelativePoint[];
  averages: RangeAverage[];
  areas: SignedArea[];
  delivery: UdpDelivery[];
  sockets: SocketSizeRow[];
  /** UDP records the receiver counted foreign datagrams in (see analysis.ts). */
  udpAnomalies: UdpAnomaly[];
  claims: ClaimResult[];
  /** What this run can and cannot test, said before the verdicts. */
  scope: ClaimsScope;
  /** Per environment, how wide its points' intervals came out (against the plan's target). */
  precision: EnvironmentPrecision[];
  tables: Table[];
  /** Round-trip probes (TCP_RR, UDP_RR at each environment start), in file order. */
  probes: RttProbeRecord[];
  /** Each environment's round-trip time: from the probes, else as the manifest holds it. */
  roundTrips: Record<string, RoundTrip>;
  /** The window/RTT model at each TCP point of an environment with a TCP round-trip time. */
  windowModel: WindowModelRow[];
  /** The link's TCP goodput, 10^6 bits/s (null: unshaped or unknown rate). */
  capacityMbit: number | null;
}

/** The claims file is the caller's (loadClaims in analyse/claims/file.ts): the library does not pick one. */
export function analyseRun(
  manifest: Manifest,
  records: readonly MeasurementRecord[],
  claimsFile: ClaimsFile,
  probes: readonly RttProbeRecord[] = [],
): RunAnalysis {
  const points = summarizePoints(records);
  const roundTrips: Record<string, RoundTrip> = {};
  for (const environment of new Set([...manifest.environments, ...probes.map((p) => p.environment)])) {
    const rt =
      roundTripOf(probes, environment) ?? own(manifest.environmentDescriptions, environment)?.roundTrip ?? null;
    if (rt !== null) roundTrips[environment] = rt;
  }
  const capacityMbit = manifest.link?.rateMbit ? tcpGoodputCapacityMbit(manifest.link.rateMbit) : null;
  const tcpRoundTrips = Object.fromEntries(Object.entries(roundTrips).map(([e, rt]) => [e, rt.tcpMicroseconds]));
  const relative = relativeThroughput(points);
  const claims = judgeClaims({ manifest, points }, claimsFile);
  const environments = orderedEnvironments(environmentsOf(points));
  const precision = precisionReached(points, environments);
  // The side-by-side table compares environments, so each row is made of the same points.
  const shared = sharedPoints(points, environments);
  const headline = headlineMetrics(shared.points, tcpRoundTrips);
  return {
    environments,
    points,
    relative,
    averages: restrictedAverage(relative, 'TCP_STREAM', ...RESTRICTED_RANGE),
    areas: signedAreas(points, 'TCP_STREAM', ...RESTRICTED_RANGE),
    delivery: udpDelivery(points),
    sockets: socketSizes(points),
    udpAnomalies: udpAnomalies(records),
    claims,
    scope: claimsScope({ manifest, points }, claimsFile, claims),
    precision,
    tables: [
      precisionTable(precision, manifest.plan.precision?.halfWidthPercent ?? null, manifest),
      hardwareTable(manifest),
      softwareTable(manifest),
      ...[interferenceTable(records, manifest.plan.interference)].filter((t) => t !== null),
      ...(Object.keys(roundTrips).length > 0 ? [roundTripTable(manifest, roundTrips)] : []),
      {
        ...sideBySideTable(manifest, headline, environments),
        notes: sideBySideNotes(manifest, headline, environments, capacityMbit, shared.leftOut),
      },
    ],
    probes: [...probes],
    roundTrips,
    windowModel: windowModel(points, tcpRoundTrips, capacityMbit),
    capacityMbit,
  };
}
