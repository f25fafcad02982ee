import { TIER_FILES, tierConfig } from './vitest.config.ts';

// The system tier: real netperf, namespaces, dockerd, QEMU and Chromium; one file at a time.
export default tierConfig(TIER_FILES.system, false);
