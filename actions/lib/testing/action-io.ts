// An ActionIO that records what an action's main did: outputs, state, log lines (a group's start and
// end among them, as the runner would fold them), the summary and whether it failed; inputs come
// from a plain object, as readerFrom reads them.

import type { ActionIO } from '../action/io.ts';
import { readerFrom } from '../action/inputs.ts';

export interface RecordingIO extends ActionIO {
  outputs: Record<string, string>;
  state: Record<string, string>;
  /** In order; 'group' carries the group's title, 'endgroup' an empty message. */
  log: { level: 'info' | 'debug' | 'warning' | 'error' | 'group' | 'endgroup'; message: string }[];
  summary: string;
  failed: string | null;
}

export function recordingIO(
  inputs: Record<string, string>,
  options: { env?: NodeJS.ProcessEnv; state?: Record<string, string> } = {},
): RecordingIO {
  const io: RecordingIO = {
    input: readerFrom(inputs),
    env: options.env ?? {},
    outputs: {},
    state: { ...options.state },
    log: [],
    summary: '',
    failed: null,
    info: (message) => io.log.push({ level: 'info', message }),
    debug: (message) => io.log.push({ level: 'debug', message }),
    warning: (message) => io.log.push({ level: 'warning', message }),
    error: (message) => io.log.push({ level: 'error', message }),
    startGroup: (title) => io.log.push({ level: 'group', message: title }),
    endGroup: () => io.log.push({ level: 'endgroup', message: '' }),
    setOutput: (name, value) => void (io.outputs[name] = value),
    saveState: (name, value) => void (io.state[name] = value),
    getState: (name) => io.state[name] ?? '',
    appendSummary: async (markdown) => void (io.summary += markdown),
    setFailed: (message) => void (io.failed = message),
  };
  return io;
}

/** The log as the runner shows it folded: top-level lines, and each group as one entry with its lines inside. */
export type FoldedLog = ({ level: 'info' | 'debug' | 'warning' | 'error'; message: string } | FoldedGroup)[];
export interface FoldedGroup {
  group: string;
  lines: RecordingIO['log'];
}

/** Folds a recorded log by its groups; a group left open, one inside another or an end without a start is an error. */
export function foldedLog(log: RecordingIO['log']): FoldedLog {
  const out: FoldedLog = [];
  let open: FoldedGroup | null = null;
  for (const entry of log) {
    if (entry.level === 'group') {
      if (open) throw new Error(`group "${entry.message}" started inside group "${open.group}"`);
      open = { group: entry.message, lines: [] };
    } else if (entry.level === 'endgroup') {
      if (!open) throw new Error('endGroup without a group');
      out.push(open);
      open = null;
    } else if (open) open.lines.push(entry);
    else out.push({ level: entry.level, message: entry.message });
  }
  if (open) throw new Error(`group "${open.group}" never ended`);
  return out;
}
