import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { EphemeralRandomPassword, EphemeralSecretValue } from "./ephemeral";

export interface SecretDocumentProps {
  /** ARN of the secret container to write into; a token of this stack. */
  readonly secretId: string;
  /**
   * The keys of the JSON document in the order the application lists them; `generated` and `values`
   * together must give each of them exactly once.
   */
  readonly keys: readonly string[];
  /** Keys whose values are generated (letters and digits) at each write, with their minimum lengths. */
  readonly generated: Readonly<
    Record<string, { readonly length: number; readonly minLength: number; readonly prop?: string; readonly why?: string }>
  >;
  /** Every other key's value: literals for settings, references for what other stacks know. */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Keys of `values` only an operator knows, each with the prop it came from (for errors): each must
   * be a variable reference, never a literal.
   */
  readonly operatorKeys?: Readonly<Record<string, string>>;
  /**
   * The secret is written when this changes (and at creation), with freshly generated values.
   * @default 1
   */
  readonly version?: number;
}

/**
 * One JSON document written into a Secrets Manager secret through the write-only `secret_string_wo`,
 * so neither the synthesized JSON nor the state holds a credential.
 *
 * Generated values are produced ephemerally on every run but only stored when `version` changes. A
 * database role must then get the same password in the same apply, so `field()` reads the version
 * just written back: the role follows whatever the secret holds, and an apply that fails between
 * the two writes heals on the next apply instead of leaving "password authentication failed" behind.
 */
export class SecretDocument extends Construct {
  /** Changes whenever a new secret version is written: the `password_wo_version` for a role. */
  readonly passwordVersion: string;
  /** The secret version's id. */
  readonly versionId: string;
  private readonly written: EphemeralSecretValue;

  constructor(scope: Construct, id: string, props: SecretDocumentProps) {
    super(scope, id);
    const kind = this.constructor.name;
    const version = props.version ?? 1;
    if (!Number.isInteger(version) || version < 1) {
      throw new Error(`${kind} ${this.node.path}: version must be a whole number >= 1 (got ${version})`);
    }
    const given = [...Object.keys(props.generated), ...Object.keys(props.values)];
    const missing = props.keys.filter((k) => !given.includes(k));
    const extra = given.filter((k) => !props.keys.includes(k));
    if (missing.length > 0 || extra.length > 0 || given.length !== props.keys.length) {
      throw new Error(
        `${kind} ${this.node.path}: the document must give each key once (missing: ${missing.join(", ") || "none"}; unknown: ${extra.join(", ") || "none"})`,
      );
    }
    for (const [key, prop] of Object.entries(props.operatorKeys ?? {})) {
      if (!Token.isUnresolved(props.values[key])) {
        throw new Error(`${kind} ${this.node.path}: ${prop} must be a variable reference, never a literal`);
      }
    }

    const document: Record<string, unknown> = {};
    for (const key of props.keys) {
      const generated = props.generated[key];
      if (generated === undefined) {
        document[key] = props.values[key];
        continue;
      }
      if (!Number.isInteger(generated.length) || generated.length < generated.minLength) {
        throw new Error(
          `${kind} ${this.node.path}: ${generated.prop ?? key} must be at least ${generated.minLength}${generated.why ?? ""} (got ${generated.length})`,
        );
      }
      document[key] = new EphemeralRandomPassword(this, key.replace(/_/g, "-"), { length: generated.length }).value;
    }

    const written = new SecretsmanagerSecretVersion(this, "value", {
      secretId: props.secretId,
      secretStringWo: Fn.jsonencode(document),
      secretStringWoVersion: version,
      // A new wo version replaces the resource: write the new version first, so AWSCURRENT moves
      // straight to it and the old one stays readable as AWSPREVIOUS.
      lifecycle: { createBeforeDestroy: true },
    });
    this.versionId = written.versionId;
    this.passwordVersion = written.versionId;
    // Reading exactly the version written above: while that write is pending its id is unknown, so
    // Terraform opens this read during the apply, after the write.
    this.written = new EphemeralSecretValue(this, "written", { secretId: props.secretId, versionId: written.versionId });
  }

  /** A key of the document as stored: an ephemeral reference, for a write-only argument. */
  field(key: string): string {
    return this.written.field(key);
  }
}
