/**
 * The `state:` defaults, apart from the schema (src/state/config.ts) so that the running gateway,
 * which does not load the schema library, uses the same values.
 */
export const STATE_DEFAULTS = { durability: 'journal', journal_max_wait: 5, journal_unacked_wait: 100, checkpoint_interval: 10_000, checkpoint_min_entries: 20_000 } as const;
