// The sweep's progress in an action's log: each environment's turn (its start, its measurement and
// round-trip lines) folded in a group, what only a diagnosis needs (the netperf command of each
// measurement, warm-up, retries, re-measurements) at debug level, and after the fold one summary
// line per turn, so the log reads as one line per environment until a group is opened. The lines
// themselves are the command line's (measure/sweep-events.ts).

import type { ActionIO } from './io.ts';
import { describeEvent, formatDuration, type SessionEvent } from '../measure/sweep-events.ts';

/** What one environment's turn (one block of it) came to. */
export interface TurnCounts {
  environment: string;
  block: number | null;
  tasks: number;
  /** Of the measurements taken, by the record that counts for each (the latest ok one, else the latest). */
  ok: number;
  failed: number;
  flagged: number;
  /** Measurements taken again because the host was disturbed. */
  remeasured: number;
  probes: number;
  probesFailed: number;
  /** Why the environment was not measured (it failed to start, or is not available here). */
  notMeasured: string | null;
}

/** The summary line of a turn, shown outside its group. */
export function turnSummary(t: TurnCounts, seconds: number): string {
  const name = `${t.environment}${t.block === null ? '' : ` block ${t.block}`}`;
  if (t.notMeasured !== null) return `${name}: not measured (${t.notMeasured})`;
  const parts = [`${t.ok} of ${t.tasks} measurements ok`];
  if (t.failed > 0) parts.push(`${t.failed} failed`);
  if (t.flagged > 0) parts.push(`${t.flagged} flagged as disturbed`);
  if (t.remeasured > 0) parts.push(`${t.remeasured} re-measured`);
  if (t.probes > 0) parts.push(`${t.probes - t.probesFailed} of ${t.probes} round-trip probes ok`);
  return `${name}: ${parts.join(', ')} in ${formatDuration(seconds)}`;
}

/** A turn before anything of it is counted. */
function turnStarting(
  start: Pick<TurnCounts, 'environment' | 'block' | 'tasks'>,
  notMeasured: string | null,
): TurnCounts {
  const { environment, block, tasks } = start;
  return {
    environment,
    block,
    tasks,
    ok: 0,
    failed: 0,
    flagged: 0,
    remeasured: 0,
    probes: 0,
    probesFailed: 0,
    notMeasured,
  };
}

export interface SweepLog {
  onEvent(event: SessionEvent): void;
  /** Ends the turn still open (the sweep ended or threw inside it): its group and its summary line. */
  close(): void;
}

type LogIO = Pick<ActionIO, 'info' | 'debug' | 'error' | 'startGroup' | 'endGroup'>;

interface OpenTurn {
  counts: TurnCounts;
  startedAt: number;
  /** Per task (point and replicate), the record that counts: whether it is ok, and flagged. */
  taken: Map<string, { ok: boolean; flagged: boolean }>;
}

/** `now` in milliseconds (the turn's duration in its summary line); tests pass their own. */
export function sweepLog(io: LogIO, now: () => number = Date.now): SweepLog {
  let open: OpenTurn | null = null;
  // The sweep sits an environment out for the rest of the session once it failed to start or was
  // unavailable, and says nothing more of its later turns: they get their summary line alone.
  const sittingOut = new Map<string, string>();
  const close = () => {
    if (!open) return;
    const taken = [...open.taken.values()];
    const ok = taken.filter((t) => t.ok).length;
    const counts = { ...open.counts, ok, failed: taken.length - ok, flagged: taken.filter((t) => t.flagged).length };
    io.endGroup();
    io.info(turnSummary(counts, (now() - open.startedAt) / 1000));
    open = null;
  };
  const write = (event: SessionEvent) => {
    const line = describeEvent(event);
    if (line.level === 'error') io.error(line.text.trim());
    else io.info(line.text);
  };
  const onEvent = (event: SessionEvent) => {
    switch (event.kind) {
      case 'environment-start': {
        close();
        if (event.tasks === 0) {
          write(event);
          return;
        }
        const why = sittingOut.get(event.environment);
        if (why !== undefined) {
          io.info(turnSummary(turnStarting(event, why), 0));
          return;
        }
        io.startGroup(describeEvent(event).text);
        open = { counts: turnStarting(event, null), startedAt: now(), taken: new Map() };
        return;
      }
      case 'environment-failed':
      case 'environment-skipped': {
        write(event);
        const why =
          event.kind === 'environment-failed' ? `failed to start: ${event.error}` : `skipped: ${event.reason}`;
        sittingOut.set(event.environment, why);
        if (open) open.counts.notMeasured = why;
        close();
        return;
      }
      case 'measured': {
        write(event);
        io.debug(`   ${event.record.command.join(' ')}`);
        if (!open) return;
        // A re-measurement replaces the task's record, but a failed one never displaces an ok one
        // (as the analysis counts them: latestRecords in measure/records.ts).
        const r = event.record;
        const key = `${r.pointId}|${r.replicate}`;
        if (open.taken.get(key)?.ok && r.status !== 'ok') return;
        open.taken.set(key, { ok: r.status === 'ok', flagged: r.status === 'ok' && r.interference?.flagged === true });
        return;
      }
      case 'probe':
        write(event);
        if (open) {
          open.counts.probes++;
          if (event.probe.status !== 'ok') open.counts.probesFailed++;
        }
        return;
      case 'remeasure':
        if (open) open.counts.remeasured++;
        io.debug(describeEvent(event).text);
        return;
      case 'warmup':
      case 'retry':
        io.debug(describeEvent(event).text);
        return;
      case 'environment-stop':
        write(event);
        close();
        return;
      case 'environment-ready':
      case 'notice':
        write(event);
        return;
      default: {
        // A new kind of event must be placed (in the fold, at debug level, or as a summary) here.
        const unplaced: never = event;
        write(unplaced);
      }
    }
  };
  return { onEvent, close };
}
