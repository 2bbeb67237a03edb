/**
 * Ephemeral resources and ephemeral variables (Terraform >= 1.10): values Terraform computes for one run
 * and never writes to the plan or state. cdktf 0.21 has no bindings for either, so this file writes the
 * raw blocks itself and hands back typed reference strings; everything else uses them like any token.
 *
 * An ephemeral value may only flow into write-only arguments, provider configuration, locals, other
 * ephemeral blocks and ephemeral outputs; Terraform rejects any other use at validate time.
 */
import { Fn, propertyAccess, ref, TerraformElement, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";

export interface EphemeralResourceProps {
  /** Provider resource type, e.g. `aws_secretsmanager_secret_version`. */
  readonly type: string;
  /**
   * Arguments exactly as the provider schema names them (snake_case); tokens are resolved like any
   * other element's, in this element's stack.
   */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * One `ephemeral "<type>" "<name>"` block. Written as its own stack element, not as a stack override,
 * so cdktf resolves its tokens in the same pass as resources; callers still pass values that come from
 * another stack through a `TerraformLocal` of this stack first (the project rule for raw blocks).
 */
export class EphemeralResource extends TerraformElement {
  readonly type: string;
  private readonly config: Readonly<Record<string, unknown>>;

  constructor(scope: Construct, id: string, props: EphemeralResourceProps) {
    super(scope, id, `ephemeral.${props.type}`);
    if (!/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(props.type)) {
      throw new Error(
        `EphemeralResource ${this.node.path}: type must be a provider resource type such as aws_ssm_parameter (got "${props.type}")`,
      );
    }
    this.type = props.type;
    this.config = props.config;
  }

  /** `ephemeral.<type>.<name>.<attribute>` as a string token (valid only where ephemeral values are). */
  getStringAttribute(attribute: string): string {
    return Token.asString(ref(`ephemeral.${this.type}.${this.friendlyUniqueId}.${attribute}`, this.cdktfStack));
  }

  override toTerraform(): Record<string, unknown> {
    return { ephemeral: { [this.type]: { [this.friendlyUniqueId]: { ...this.config, ...this.rawOverrides } } } };
  }
}

// ---------------------------------------------------------------- typed helpers

export interface SecretValueProps {
  /** ARN or name of the secret; a token of this stack. */
  readonly secretId: string;
  /**
   * Read exactly this version. Referencing a version another resource writes makes Terraform open
   * the read only after that write, in the same apply.
   * @default - the version labelled AWSCURRENT
   */
  readonly versionId?: string;
}

/**
 * A Secrets Manager secret's value read for this run only (`ephemeral "aws_secretsmanager_secret_version"`):
 * it reaches provider configuration or write-only arguments and never the state.
 */
export class EphemeralSecretValue extends Construct {
  /** The whole `secret_string`. */
  readonly secretString: string;

  constructor(scope: Construct, id: string, props: SecretValueProps) {
    super(scope, id);
    const block = new EphemeralResource(this, "value", {
      type: "aws_secretsmanager_secret_version",
      config: { secret_id: props.secretId, ...(props.versionId === undefined ? {} : { version_id: props.versionId }) },
    });
    this.secretString = block.getStringAttribute("secret_string");
  }

  /** One key of a JSON secret, e.g. `field("password")` of an RDS-managed master secret. */
  field(key: string): string {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new Error(`EphemeralSecretValue ${this.node.path}: field "${key}" is not a plain JSON key`);
    return Token.asString(propertyAccess(Fn.jsondecode(this.secretString), [key]));
  }
}

export interface RandomPasswordProps {
  /** Number of characters. */
  readonly length: number;
  /**
   * Leave out punctuation: letters and digits only, safe in URLs, shells and connection strings.
   * @default true
   */
  readonly lettersAndDigitsOnly?: boolean;
}

/**
 * A password Secrets Manager generates for this run only (`ephemeral "aws_secretsmanager_random_password"`,
 * the GetRandomPassword API). It differs on every plan and apply: write it only through a write-only
 * argument whose `*_wo_version` changes when it should be stored.
 */
export class EphemeralRandomPassword extends Construct {
  /** The generated password. */
  readonly value: string;

  constructor(scope: Construct, id: string, props: RandomPasswordProps) {
    super(scope, id);
    if (!Number.isInteger(props.length) || props.length < 8 || props.length > 4096) {
      throw new Error(`EphemeralRandomPassword ${this.node.path}: length must be a whole number 8-4096 (got ${props.length})`);
    }
    const block = new EphemeralResource(this, "password", {
      type: "aws_secretsmanager_random_password",
      config: {
        password_length: props.length,
        exclude_punctuation: props.lettersAndDigitsOnly ?? true,
        include_space: false,
        require_each_included_type: true,
      },
    });
    this.value = block.getStringAttribute("random_password");
  }
}

/**
 * What an operator value looks like until an operator sets it: plainly not a credential, and naming
 * the variable that replaces it, so an app started on placeholders fails loudly and says why.
 */
export const placeholder = (variable: string): string => `PLACEHOLDER-set-TF_VAR_${variable}`;

export interface EphemeralVariableProps {
  readonly description: string;
  /**
   * Used when `TF_VAR_<name>` is not set. Must not be a real secret: it is written into the JSON.
   * @default - none: the variable is required
   */
  readonly default?: string;
}

/**
 * A sensitive, ephemeral string variable `name`, set as `TF_VAR_<name>` at plan/apply time; its value
 * is never stored in the plan file or the state. Returns the `var.<name>` reference.
 */
export function ephemeralVariable(scope: Construct, name: string, props: EphemeralVariableProps): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new Error(`ephemeralVariable: name must be snake_case, it becomes TF_VAR_<name> (got "${name}")`);
  const variable = new TerraformVariable(scope, name, {
    type: "string",
    description: props.description,
    default: props.default,
    sensitive: true,
    nullable: false,
  });
  variable.overrideLogicalId(name);
  // cdktf 0.21's TerraformVariable has no `ephemeral` argument (Terraform 1.10 added it).
  variable.addOverride("ephemeral", true);
  return variable.stringValue;
}
