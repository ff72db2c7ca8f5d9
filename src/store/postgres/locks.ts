/**
 * Advisory lock keys (one database-wide namespace; stores in several schemas of one database share
 * them, which only serialises a little more than needed).
 */
export const ADVISORY_LOCK = {
  /** Session lock while migrating, so replicas starting together migrate once. */
  migrations: 1_986_622_301,
  /** Transaction lock around group creation, renaming and deletion: the limit and name checks. */
  groups: 1_986_622_302,
  /** Transaction lock taken last, just before appending to `changes`: makes seq order commit order. */
  changeLog: 1_986_622_303,
  /** Transaction lock while pruning old changes: one replica prunes, the others skip their turn. */
  changePruning: 1_986_622_304,
} as const;
