// Sweep events as log lines, one wording for the command line (`virtnet run`) and the run-sweep
// action: each line with its level, so the action can mark failures as errors in the job log.

import type { SweepEvent } from './sweep.ts';
import { PARAMETER_FLAG } from '../plan/plan.ts';

/** A notice from the session (a resumed run, a lock taken over, a cut-short results line). */
export type SessionEvent = SweepEvent | { kind: 'notice'; message: string };

export interface EventLine {
  level: 'info' | 'error';
  text: string;
}

/** "1h05m", "4m07s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The log line of an event. */
export function describeEvent(event: SessionEvent): EventLine {
  const info = (text: string): EventLine => ({ level: 'info', text });
  switch (event.kind) {
    case 'notice':
      return info(`  note: ${event.message}`);
    case 'environment-start': {
      const block = event.block === null ? '' : ` block ${event.block}`;
      return info(
        event.tasks === 0
          ? `== ${event.environment}${block}: all ${event.skipped} measurements already done`
          : `== ${event.environment}${block}: starting (${event.tasks} measurements${event.skipped ? `, ${event.skipped} already done` : ''})`,
      );
    }
    case 'environment-ready':
      return info(
        `== ${event.environment}: ready in ${event.description.startupSeconds?.toFixed(1) ?? '?'} s: ${event.description.summary}${event.description.accelerator === 'tcg' ? ' [TCG: software emulation, not KVM numbers]' : ''}`,
      );
    case 'environment-failed':
      return { level: 'error', text: `== ${event.environment}: FAILED to start: ${event.error}` };
    case 'environment-skipped':
      return { level: 'error', text: `== ${event.environment}: skipped: ${event.reason}` };
    case 'warmup':
      return info(`   warm-up: ${event.seconds} s TCP_STREAM (not recorded)`);
    case 'retry':
      return info(
        `   retry ${event.attempt}: ${event.task.point.id} replicate ${event.task.replicate}: ${event.error}`,
      );
    case 'remeasure':
      return info(
        `   re-measuring ${event.task.point.id} replicate ${event.task.replicate} (${event.remeasurement}): ${event.reasons.join(', ')}${event.quietWait ? `; ${event.quietWait.quiet ? 'the host was quiet' : 'the host was still busy'} after ${event.quietWait.seconds.toFixed(1)} s` : ''}`,
      );
    case 'measured': {
      const r = event.record;
      const disturbed = r.interference?.flagged ? `  [flagged: ${r.interference.reasons.join(', ')}]` : '';
      const flag = PARAMETER_FLAG[r.parameter];
      const what = r.status === 'ok' ? `${r.metrics!.throughputMbps.toFixed(2)} Mbit/s` : `FAILED: ${r.error}`;
      const width = String(event.total).length;
      return info(
        `[${String(event.index).padStart(width)}/${event.total}] ${r.environment} ${r.test} ${flag} ${r.value} rep ${r.replicate}: ${what}${disturbed}  ETA ${formatDuration(event.etaSeconds)}`,
      );
    }
    case 'probe': {
      const p = event.probe;
      const m = p.metrics;
      return m
        ? info(
            `   round trip ${p.test}: mean ${m.meanLatencyMicroseconds.toFixed(1)} us (stdev ${m.stddevLatencyMicroseconds.toFixed(1)}, p99 ${m.p99LatencyMicroseconds} us), ${m.transactionsPerSecond.toFixed(0)} trans/s`,
          )
        : info(`   round trip ${p.test}: FAILED (the sweep goes on): ${p.error}`);
    }
    case 'environment-stop':
      return info(`== ${event.environment}: stopped`);
  }
}
