import { DataAwsSecretsmanagerSecretVersions } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-versions";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn, Op, ref, Token } from "cdktf";
import { Construct } from "constructs";
import { EphemeralRandomPassword, EphemeralResource, EphemeralSecretValue } from "./ephemeral";

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const SECRET_DOCUMENT_DEFAULTS = {
  /** The first write of a document or a patch. */
  version: 1,
} as const;

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
  /**
   * Keys of `values` another writer owns (an operator's SecretPatch, `npm run ses:credentials`): a
   * write keeps each as the secret holds it, and uses `values` only for the first write or a key the
   * secret lacks, so rotating the generated values never resets them.
   * @default - none: every write sets every key from `values`
   */
  readonly keep?: readonly string[];
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
  /** The write itself: what a later write of the same secret in the same apply waits for. */
  readonly resource: SecretsmanagerSecretVersion;
  private readonly written: EphemeralSecretValue;

  constructor(scope: Construct, id: string, props: SecretDocumentProps) {
    super(scope, id);
    const kind = this.constructor.name;
    const version = props.version ?? SECRET_DOCUMENT_DEFAULTS.version;
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

    const keep = props.keep ?? [];
    const unknownKept = keep.filter((k) => !(k in props.values));
    if (unknownKept.length > 0) {
      throw new Error(`${kind} ${this.node.path}: keep names keys without a value in values (${unknownKept.join(", ")})`);
    }
    const current = keep.length > 0 ? currentDocument(this, props.secretId) : undefined;

    const document: Record<string, unknown> = {};
    for (const key of props.keys) {
      const generated = props.generated[key];
      if (generated === undefined) {
        document[key] = current && keep.includes(key) ? Fn.lookup(current, key, props.values[key]) : props.values[key];
        continue;
      }
      if (!Number.isInteger(generated.length) || generated.length < generated.minLength) {
        throw new Error(
          `${kind} ${this.node.path}: ${generated.prop ?? key} must be at least ${generated.minLength}${generated.why ?? ""} (got ${generated.length})`,
        );
      }
      document[key] = new EphemeralRandomPassword(this, key.replace(/_/g, "-"), { length: generated.length }).value;
    }

    const written = (this.resource = new SecretsmanagerSecretVersion(this, "value", {
      secretId: props.secretId,
      secretStringWo: Fn.jsonencode(document),
      secretStringWoVersion: version,
      // A new wo version replaces the resource, the old one retired first: retiring never takes
      // AWSCURRENT away (the provider leaves that label), so the secret stays readable throughout.
      // Not create-before-destroy: another write in the same apply (the operator patch, or a tool
      // between plan and apply) moves AWSPREVIOUS, and removing a label the old version no longer
      // holds fails the apply.
    }));
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

/**
 * The secret's current value as a decoded JSON object, for this run only; `{}` while the secret has no
 * value yet (the first write of a new environment), which an unconditional read would fail on.
 */
function currentDocument(scope: Construct, secretId: string): unknown {
  const existing = new DataAwsSecretsmanagerSecretVersions(scope, "existing-versions", { secretId });
  const block = new EphemeralResource(scope, "current", {
    type: "aws_secretsmanager_secret_version",
    // 1 once the secret has any version, else 0 (the provider gives null for none): the read would
    // fail on a secret without a value.
    config: { count: Fn.min([Fn.try([Fn.lengthOf(existing.interpolationForAttribute("versions")), 0]), 1]), secret_id: secretId },
  });
  const secretString = ref(`ephemeral.${block.type}.${block.friendlyUniqueId}[0].secret_string`, block.cdktfStack);
  return Fn.try([Fn.jsondecode(Token.asString(secretString)), {}]);
}

export interface SecretPatchProps {
  /** ARN of the secret (the document's); a token of this stack. */
  readonly secretId: string;
  /** The keys this patch sets and their values; every other key stays as the secret holds it. */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Keys whose value, while it equals the given placeholder, keeps what the secret holds: an operator
   * publishing only Stripe keys leaves SMTP values written by a tool alone.
   * @default - none
   */
  readonly placeholders?: Readonly<Record<string, string>>;
  /**
   * The patch is written when this changes (and at creation).
   * @default 1
   */
  readonly version?: number;
  /** The document written earlier in the same apply: the patch reads the secret after it. */
  readonly after: SecretDocument;
}

/**
 * A write of a few keys into a JSON secret: it reads the current value (ephemerally), changes only
 * `values` and writes the result back through `secret_string_wo`, when `version` changes. Its own
 * counter, apart from the document's, lets values only an operator knows be published without
 * regenerating what the document generates, and the document's rotation keeps them (its `keep`).
 */
export class SecretPatch extends Construct {
  /** The version this patch wrote. */
  readonly versionId: string;
  /** The write itself: its address, for `moved` blocks and for tests that find it. */
  readonly resource: SecretsmanagerSecretVersion;

  constructor(scope: Construct, id: string, props: SecretPatchProps) {
    super(scope, id);
    const version = props.version ?? SECRET_DOCUMENT_DEFAULTS.version;
    if (!Number.isInteger(version) || version < 1) {
      throw new Error(`SecretPatch ${this.node.path}: version must be a whole number >= 1 (got ${version})`);
    }
    const block = new EphemeralResource(this, "current", {
      type: "aws_secretsmanager_secret_version",
      // The secret's ARN as the document's write reports it: unknown while that write is pending, so
      // Terraform opens this read during the apply, after the write, not during the plan. A patch
      // must start from freshly generated values when both counters change at once, and the first
      // write of a new environment has nothing to read at plan time (depends_on would not defer it).
      config: { secret_id: props.after.resource.arn },
    });
    const current = Fn.jsondecode(block.getStringAttribute("secret_string"));
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(props.values)) {
      const placeholder = props.placeholders?.[key];
      patch[key] = placeholder === undefined ? value : Fn.conditional(Op.eq(value, placeholder), Fn.lookup(current, key, value), value);
    }
    const written = new SecretsmanagerSecretVersion(this, "value", {
      secretId: props.secretId,
      secretStringWo: Fn.jsonencode(Fn.merge([current, patch])),
      secretStringWoVersion: version,
      // Replaced old-first, like the document's write (see there).
    });
    this.versionId = written.versionId;
    this.resource = written;
  }
}
