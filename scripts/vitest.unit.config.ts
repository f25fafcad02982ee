import { availableParallelism } from 'node:os';
import { TIER_FILES, tierConfig } from './vitest.config.ts';

// The unit tier: pure tests, no root, no system packages, no services; files run in parallel. One
// worker more than the cores (vitest's default is one fewer): many unit files wait on a child
// process (the CLI's refusals, git), and a worker waiting leaves its core to another. On two cores:
// 97 s with vitest's one worker, 59 s with two, 51 s with three (quiet machine).
const config = tierConfig(TIER_FILES.unit, true);
export default { ...config, test: { ...config.test, maxWorkers: availableParallelism() + 1 } };
