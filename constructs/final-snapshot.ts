import { Fn } from "cdktf";

/**
 * A final snapshot name that never collides with an earlier one: `<base>-final-<creation time>`.
 *
 * A fixed name fails the second time a resource of the same id is destroyed (DBSnapshotAlreadyExists:
 * the first one's snapshot is still there). The name carries the time the resource was created
 * instead. The resource must `ignore_changes` the attribute (`FINAL_SNAPSHOT_IGNORED`), which keeps
 * that first value in state: stable for the resource's life (no perpetual diff), new for every new one.
 */
export function finalSnapshotName(base: string): string {
  return `${base}-final-${Fn.formatdate("YYYYMMDDhhmmss", Fn.timestamp())}`;
}

/** The attribute a resource using `finalSnapshotName` must ignore changes to. */
export const FINAL_SNAPSHOT_IGNORED = "final_snapshot_identifier";
