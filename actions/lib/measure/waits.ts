// The waits of a measure leg, in one place, each measured from the last sign of life rather than
// from the start, and each bounded. Pure.
//
//   server's release wait   the plan's worst-case sweep time for one environment, times
//                           RELEASE_MARGIN.factor, plus RELEASE_MARGIN.minutes: a client that died
//                           mid-sweep, or a release lost on the cable, frees the pair then, not after
//                           a fixed 330 minutes.
//   client's ready wait     counts from the server's last heartbeat (the server answers status
//                           requests while it prepares and boots), bounded in all by a cap.
//   client's release        retried with doubling pauses for a bounded time (RELEASE_RETRY).

import { extraBudget, maxReplicates, scheduleSettings } from '../plan/schedule.ts';
import { expandPoints, type Plan, taskSeconds } from '../plan/plan.ts';

/**
 * The margin on the plan's worst case: a quarter more for a slow host, plus a quarter of an hour for
 * starting the environment, the client's preparation and the upload before its release.
 */
export const RELEASE_MARGIN = { factor: 1.25, minutes: 15 } as const;

/** What one task costs beyond netperf's own test time (connection set-up, the recorder): a generous 2 s. */
const TASK_OVERHEAD_SECONDS = 2;
/** What starting an environment costs per block at worst (a guest boot under TCG: about a minute). */
const START_SECONDS = 90;

/**
 * The longest one environment's sweep of the plan should take: every point in the plan's
 * replicates, and in every block the precision target may add as far as its time budget allows,
 * each at the plan's worst task time (all confidence iterations), each remeasured as often as the
 * interference check may ask, each retake after the longest wait for a quiet host.
 */
export function worstSweepSeconds(plan: Plan): number {
  const settings = scheduleSettings(plan);
  const blocks = maxReplicates(settings);
  const points = expandPoints(plan).length;
  const planned =
    points * settings.replicates + Math.min(points * (blocks - settings.replicates), extraBudget(settings));
  // A measurement flagged for interference is taken again, up to remeasureFlagged more times.
  const retakes = planned * (plan.interference?.remeasureFlagged ?? 0);
  // Each retake may first wait for a quiet host (sweep.ts, awaitQuiet).
  const quietWaits = retakes * (plan.interference?.retakeQuietSeconds ?? 0);
  const starts = plan.design === 'blocked' ? blocks : 1;
  return (
    (planned + retakes) * (taskSeconds(plan) + TASK_OVERHEAD_SECONDS) +
    quietWaits +
    starts * (plan.warmupSeconds + START_SECONDS)
  );
}

/** The server's release wait for one environment of this plan, in whole minutes. */
export function releaseWaitMinutes(plan: Plan): number {
  return Math.ceil((worstSweepSeconds(plan) * RELEASE_MARGIN.factor) / 60) + RELEASE_MARGIN.minutes;
}

/**
 * A wait measured from the last sign of life: it expires `silenceMs` after the later of its start
 * and the last heard(), and never later than `capMs` after its start.
 */
export class SignOfLife {
  #last: number;
  readonly #start: number;
  readonly silenceMs: number;
  readonly capMs: number;
  constructor(start: number, silenceMs: number, capMs: number) {
    this.#start = start;
    this.#last = start;
    this.silenceMs = silenceMs;
    this.capMs = capMs;
  }

  heard(now: number): void {
    this.#last = Math.max(this.#last, now);
  }

  get lastHeard(): number {
    return this.#last;
  }

  /** When the wait ends, as things stand. */
  deadline(): number {
    return Math.min(this.#last + this.silenceMs, this.#start + this.capMs);
  }

  /** Why the wait is over, or null while it goes on. */
  expired(now: number): string | null {
    if (now < this.deadline()) return null;
    if (now >= this.#start + this.capMs) return `no ready environment within ${Math.round(this.capMs / 1000)} s in all`;
    return this.#last === this.#start
      ? `no sign of the server within ${Math.round(this.silenceMs / 1000)} s`
      : `the server fell silent: no heartbeat for ${Math.round(this.silenceMs / 1000)} s`;
  }
}

/** How the client retries its release: pauses doubling from firstMs, at most maxPauseMs each, within budgetMs in all. */
export const RELEASE_RETRY = { firstMs: 1000, maxPauseMs: 30_000, budgetMs: 2 * 60_000 } as const;

/** The pauses between release attempts: doubling, capped, their sum within the budget. */
export function releasePauses(
  retry: { firstMs: number; maxPauseMs: number; budgetMs: number } = RELEASE_RETRY,
): number[] {
  const pauses: number[] = [];
  let pause = retry.firstMs;
  let total = 0;
  while (total + pause <= retry.budgetMs && pauses.length < 100) {
    pauses.push(pause);
    total += pause;
    pause = Math.min(pause * 2, retry.maxPauseMs);
  }
  return pauses;
}
