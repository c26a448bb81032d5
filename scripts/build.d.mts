/** Builds into `outDir` (default <repo>/dist, emptied first); returns outDir. Throws when tsc fails. */
export function build(outDir?: string): string;
