import { TIER_FILES, tierConfig } from './vitest.config.ts';

// The unit tier: pure tests, no root, no system packages, no services; files run in parallel.
export default tierConfig(TIER_FILES.unit, true);
