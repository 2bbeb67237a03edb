import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { LIMITS } from "./aws-limits";
import { allow } from "./iam";
import { Naming } from "./naming";
import type { IGrantable } from "./role";
import { propError } from "./errors";

export interface ApplicationSecretProps {
  /** Secrets Manager name the application looks the secret up by (its `DB_SECRET_NAME`). */
  readonly secretName: string;
  /**
   * What the secret holds, shown in the console next to it.
   * @default - "Application credentials and settings; value written by the tenants stack"
   */
  readonly description?: string;
  /**
   * Days a deleted secret can still be restored (7-30); 0 deletes it at once and frees the name at once.
   * No default here: it depends on the environment, and the config decides it (`defaultRecoveryWindowDays`:
   * 30 in production, 0 elsewhere, so a teardown and redeploy can create the same name again).
   */
  readonly recoveryWindowDays: number;
  /**
   * `prevent_destroy` on the secret: destroying it takes every application credential with it.
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * The Secrets Manager secret the application reads its credentials from: the container only.
 * Its value is written elsewhere (the tenants stack, through a write-only argument), so no value ever
 * passes through this construct, the synthesized JSON or this stack's state.
 */
export class ApplicationSecret extends Construct {
  readonly secretArn: string;
  readonly secretName: string;
  /** The id other resources take as `secret_id` (the ARN). */
  readonly secretId: string;

  constructor(scope: Construct, id: string, props: ApplicationSecretProps) {
    super(scope, id);
    const { recoveryWindowDays } = props;
    const description = props.description ?? "Application credentials and settings; value written by the tenants stack";
    const protect = props.protect ?? true;

    if (!Token.isUnresolved(props.secretName) && !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(props.secretName)) {
      throw propError(this, `secretName`, `must be 1-512 of letters, digits and /_+=.@- (got "${props.secretName}")`);
    }
    if (!LIMITS.secretRecoveryWindowDays.check(recoveryWindowDays)) {
      throw propError(this, `recoveryWindowDays`, `${LIMITS.secretRecoveryWindowDays.rule} (got ${recoveryWindowDays})`);
    }

    const secret = new SecretsmanagerSecret(this, "secret", {
      name: props.secretName,
      description,
      recoveryWindowInDays: recoveryWindowDays,
      lifecycle: { preventDestroy: protect },
      tags: Naming.of(this).tags("app-secret"),
    });
    this.secretArn = secret.arn;
    this.secretName = secret.name;
    this.secretId = secret.id;
  }

  /** Lets `grantable` read the secret's value, and nothing else, on this one secret. */
  grantRead(grantable: IGrantable): void {
    grantable.addToPolicy(allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], [this.secretArn]));
  }
}
