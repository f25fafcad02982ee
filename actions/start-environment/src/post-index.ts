// The post step's entry point (runs.post): always tears the environment down.
import { runPost } from './post.ts';

await runPost();
