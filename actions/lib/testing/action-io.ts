// An ActionIO that records what an action's main did: outputs, state, log lines, the summary and
// whether it failed; inputs come from a plain object, as readerFrom reads them.

import type { ActionIO } from '../action/io.ts';
import { readerFrom } from '../action/inputs.ts';

export interface RecordingIO extends ActionIO {
  outputs: Record<string, string>;
  state: Record<string, string>;
  log: { level: 'info' | 'warning' | 'error'; message: string }[];
  summary: string;
  failed: string | null;
}

export function recordingIO(inputs: Record<string, string>, options: { env?: NodeJS.ProcessEnv; state?: Record<string, string> } = {}): RecordingIO {
  const io: RecordingIO = {
    input: readerFrom(inputs),
    env: options.env ?? {},
    outputs: {},
    state: { ...options.state },
    log: [],
    summary: '',
    failed: null,
    info: (message) => io.log.push({ level: 'info', message }),
    warning: (message) => io.log.push({ level: 'warning', message }),
    error: (message) => io.log.push({ level: 'error', message }),
    setOutput: (name, value) => void (io.outputs[name] = value),
    saveState: (name, value) => void (io.state[name] = value),
    getState: (name) => io.state[name] ?? '',
    appendSummary: async (markdown) => void (io.summary += markdown),
    setFailed: (message) => void (io.failed = message),
  };
  return io;
}
