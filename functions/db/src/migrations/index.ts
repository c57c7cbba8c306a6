import { chunksAndCounters } from './chunks-and-counters.ts';
import type { MigrationStep } from './runner.ts';
import { searchKeysStep } from './search-keys.ts';

export type { MigrationStep } from './runner.ts';
export { runMigrations } from './runner.ts';

/**
 * Data migrations the db function runs at start, in this order, before it reports ready
 * (docs/storage.md). A new step is one file exporting a MigrationStep, added at the end here.
 */
export const steps: MigrationStep[] = [chunksAndCounters, searchKeysStep];
