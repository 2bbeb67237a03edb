import { SecureBucket, type SecureBucketProps } from "./secure-bucket";

export type StateBucketProps = SecureBucketProps;

/**
 * The bucket that holds Terraform state: a SecureBucket (versioned so a bad apply can be rolled back,
 * encrypted, private, TLS only, never force-destroyed). Locking uses S3 lock files next to each state
 * object (`use_lockfile`), so there is no DynamoDB table.
 */
export class StateBucket extends SecureBucket {}
