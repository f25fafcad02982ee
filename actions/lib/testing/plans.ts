// Plans the system tests write for the real CLI.

/** One TCP point on the plateau and one UDP point below the frame, one replicate, 1 s tests. */
export const TINY_PLAN = {
  formatVersion: 2,
  name: 'tiny',
  testLengthSeconds: 1,
  replicates: 1,
  warmupSeconds: 0,
  confidence: null,
  order: { randomize: false, seed: 1 },
  ports: { control: 12865, data: 12866 },
  ipVersion: 4,
  retries: 1,
  sweeps: [
    {
      test: 'TCP_STREAM',
      series: 'from-100',
      vary: 'sendSocketSize',
      from: 16100,
      to: 16100,
      step: 1000,
      messageSize: 131072,
    },
    { test: 'UDP_STREAM', series: 'from-50', vary: 'requestSize', from: 1450, to: 1450, step: 100, messageSize: 3100 },
  ],
} as const;
