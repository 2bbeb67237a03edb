/**
 * The step plan behind `npm run deploy` and `npm run destroy`: which commands run, in which order,
 * against which synthesized stack folder. Building the plan is pure (config + synthesized stacks in,
 * steps out), so `--dry-run` prints exactly what a real run executes (format.ts) and tests check it
 * with no AWS; run.ts executes it.
 *
 * Terraform is driven directly in cdktf.out/stacks/<stack> (init, plan to a file, apply that file)
 * rather than through `cdktf deploy`: the tenants stack must run between opening and closing an SSM
 * tunnel, every step must be printable as a command for --dry-run, and plan files give a reviewable
 * "this is what will change" before each apply. cdktf deploy would synthesize again, hide the
 * commands, and run every stack without room for the tunnel in between.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../../config/schema";
import { layersOf, type Layer } from "../../../stacks/layers";
import { ACCESS_OUTPUTS, DATA_OUTPUTS, OBSERVABILITY_OUTPUTS } from "../../../stacks/outputs";
import { waves } from "../schedule";
import type { SynthesizedStack } from "../synth";

export type Action = "deploy" | "destroy";

/** Written in a step where a deployed stack's output is needed: `<prod-access.bastion_instance_id>`. */
export type OutputRef = `<${string}.${string}>`;

export type Step =
  | {
      readonly kind: "stack";
      readonly stack: string;
      readonly layer: Layer;
      readonly dir: string;
      readonly init: readonly string[];
      /** Exit code 0: nothing to do; 2: changes, apply them (after asking, unless --yes). */
      readonly plan: readonly string[];
      readonly apply: readonly string[];
      readonly planFile: string;
      readonly note?: string;
    }
  | {
      /** AWS CLI commands that start a stopped bastion and wait until SSM can reach it. */
      readonly kind: "start-bastion";
      readonly commands: readonly (readonly string[])[];
    }
  | {
      /** Stops the bastion again; runs after a failure too, but only when it was started. */
      readonly kind: "stop-bastion";
      readonly command: readonly string[];
      readonly always: true;
    }
  | {
      readonly kind: "open-tunnel";
      readonly bastionInstanceId: OutputRef;
      readonly host: OutputRef;
      readonly remotePort: OutputRef;
      readonly localPort: number;
      readonly region: string;
    }
  | { readonly kind: "close-tunnel"; readonly always: true };

export type StackStep = Extract<Step, { kind: "stack" }>;

/**
 * One stack and the steps wrapped around it (the tunnel around the SQL layer): what runs as one unit,
 * side by side with other groups once the groups it waits for are done.
 */
export interface StepGroup {
  /** The stack this group deploys or destroys; also the group's id. */
  readonly id: string;
  /**
   * The stacks of this plan that must be done first: for deploy the stacks it depends on, for destroy
   * the stacks that depend on it, both from the synthesized stacks' dependencies (transitively, so
   * naming `network tenants` still deploys network first).
   */
  readonly after: readonly string[];
  readonly steps: readonly Step[];
}

export interface Plan {
  readonly action: Action;
  readonly environment: string;
  /** Groups in the order they may start: by level in the dependency graph, then deploy order. */
  readonly groups: readonly StepGroup[];
  /** Every step of `groups`, in that order. */
  readonly steps: readonly Step[];
  /** Set when the plan must not run at all: the reason and the way out. */
  readonly refusal?: string;
  /** Printed after a successful deploy; may hold output references, resolved when possible. */
  readonly nextSteps: readonly string[];
}

export interface PlanOptions {
  /** Deploy or destroy only these layers (in their fixed order). @default every layer */
  readonly only?: readonly Layer[];
  /** The guardrails' verdict for destroy (scripts/lib/protection.ts `destroyRefusal`). */
  readonly destroyRefusal?: (config: EnvironmentConfig) => string | undefined;
  /** Terraform variables an operator sets for the tenants stack (Stripe, SMTP), from its synthesized JSON. */
  readonly operatorVariables?: readonly string[];
}

const INIT = ["init", "-input=false", "-no-color"];

const ref = (stack: string, output: string): OutputRef => `<${stack}.${output}>`;

/** The stacks of `config`'s environment, in deploy order, limited to `only`. */
function environmentStacks(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], only?: readonly Layer[]): SynthesizedStack[] {
  const chosen = layersOf(config).filter((layer) => !only || only.length === 0 || only.includes(layer));
  return chosen.map((layer) => {
    const name = `${config.environment}-${layer}`;
    const stack = stacks.find((s) => s.name === name);
    if (!stack) throw new Error(`stack ${name} was not synthesized (synthesized: ${stacks.map((s) => s.name).join(", ") || "none"})`);
    return stack;
  });
}

/** Every stack `stack` depends on, directly or through others, among `all`. */
function allDependencies(stack: SynthesizedStack, all: readonly SynthesizedStack[]): Set<string> {
  const byName = new Map(all.map((s) => [s.name, s]));
  const found = new Set<string>();
  const visit = (name: string): void => {
    for (const dep of byName.get(name)?.dependencies ?? []) {
      if (!found.has(dep)) {
        found.add(dep);
        visit(dep);
      }
    }
  };
  visit(stack.name);
  return found;
}

/**
 * The plan's groups, ordered by level in the graph (what can run together), then by `chosen`'s order.
 * Deploy waits for a stack's dependencies, destroy for its dependents; stacks not chosen are taken as
 * already there (deploy) or kept (destroy).
 */
function groupsOf(
  chosen: readonly SynthesizedStack[],
  all: readonly SynthesizedStack[],
  action: Action,
  stepsOf: (stack: SynthesizedStack) => Step[],
): StepGroup[] {
  const names = new Set(chosen.map((s) => s.name));
  const deps = new Map(chosen.map((s) => [s.name, allDependencies(s, all)]));
  const groups = chosen.map((stack) => ({
    id: stack.name,
    after:
      action === "deploy"
        ? [...deps.get(stack.name)!].filter((d) => names.has(d))
        : chosen.filter((other) => deps.get(other.name)!.has(stack.name)).map((other) => other.name),
    steps: stepsOf(stack),
  }));
  return waves(groups).flat();
}

function stackStep(config: EnvironmentConfig, stack: SynthesizedStack, action: Action): Step {
  const layer = stack.name.slice(config.environment.length + 1) as Layer;
  const planFile = `${action}.tfplan`;
  const destroy = action === "destroy" ? ["-destroy"] : [];
  const note =
    layer === "state" && config.state.stateStackBackend === "local"
      ? `local backend: terraform.${stack.name}.tfstate in the repository root; README, operations, says how to move it into the bucket`
      : undefined;
  return {
    kind: "stack",
    stack: stack.name,
    layer,
    dir: stack.dir,
    init: INIT,
    // Another run holding the lock gets two minutes to finish before this one gives up.
    plan: ["plan", ...destroy, "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", `-out=${planFile}`],
    apply: ["apply", "-input=false", "-no-color", "-lock-timeout=120s", planFile],
    planFile,
    ...(note ? { note } : {}),
  };
}

/** Why the application's SQL layer cannot reach the database, or undefined when it can (the schema refuses this too). */
function tunnelProblem(config: EnvironmentConfig): string | undefined {
  const { connection, section } = config.postgresAccess;
  if (connection !== "tunnel" || config.bastion.enabled) return undefined;
  return (
    `${section}.connection is "tunnel" but bastion.enabled is false: nothing can reach the database. ` +
    `Set bastion.enabled: true, or ${section}.connection: "direct" when running from inside the VPC.`
  );
}

/** The stack that talks to PostgreSQL as its master user: StartupWebApp's tenants, SafeBucket's database. */
function isSqlLayer(config: EnvironmentConfig, stack: { name: string }): boolean {
  return stack.name === `${config.environment}-${config.postgresAccess.layer}`;
}

/**
 * The AWS CLI commands that start a stopped bastion and wait until SSM can reach it, and the one that
 * stops it again (deploy's steps; `npm run tunnel` and `npm run plan` use them too).
 */
export function bastionPowerCommands(region: string, instanceId: string): { start: string[][]; stop: string[] } {
  return {
    start: [
      ["aws", "ec2", "start-instances", "--region", region, "--instance-ids", instanceId],
      // Status checks pass after boot, by which time the SSM agent has registered.
      ["aws", "ec2", "wait", "instance-status-ok", "--region", region, "--instance-ids", instanceId],
    ],
    stop: ["aws", "ec2", "stop-instances", "--region", region, "--instance-ids", instanceId],
  };
}

/** Opening the tunnel (starting a stopped bastion first), and the steps that undo it, always run. */
function tunnelSteps(config: EnvironmentConfig): { open: Step[]; close: Step[] } {
  if (config.postgresAccess.connection !== "tunnel") return { open: [], close: [] };
  const env = config.environment;
  const bastion = ref(`${env}-access`, ACCESS_OUTPUTS.bastionInstanceId);
  const open: Step[] = [];
  const close: Step[] = [{ kind: "close-tunnel", always: true }];
  if (!config.bastion.running) {
    // bastion.running: false keeps it stopped between sessions; SSM needs it running, so start it
    // for the tenants step and stop it again afterwards, also when that step fails.
    const power = bastionPowerCommands(config.region, bastion);
    open.push({ kind: "start-bastion", commands: power.start });
    close.push({ kind: "stop-bastion", command: power.stop, always: true });
  }
  open.push({
    kind: "open-tunnel",
    bastionInstanceId: bastion,
    host: ref(`${env}-data`, DATA_OUTPUTS.dbInstanceAddress),
    remotePort: ref(`${env}-data`, DATA_OUTPUTS.dbInstancePort),
    localPort: config.postgresAccess.tunnelPort,
    region: config.region,
  });
  return { open, close };
}

/** state, network, data, access, observability; tunnel; tenants; close the tunnel. */
export function deployPlan(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], options: PlanOptions = {}): Plan {
  return operatorPlan("deploy", config, stacks, options);
}

/**
 * The reverse: tenants through the tunnel first, network last. The state stack is destroyed only
 * when named (`npm run destroy -- <env> state`): its bucket holds every stack's state history and
 * must be emptied by hand first (it is never force-destroyed), and while the stack keeps its own
 * state in that bucket Terraform could not record deleting it.
 */
export function destroyPlan(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], options: PlanOptions = {}): Plan {
  return operatorPlan("destroy", config, stacks, options);
}

/**
 * The one path of both plans; they differ only in which stacks they take (destroy: reversed, the
 * state stack kept unless named), what may refuse them (destroy: the guardrails first) and the lines
 * printed after them (deploy: next steps; destroy: what was kept and why).
 */
export function operatorPlan(
  action: Action,
  config: EnvironmentConfig,
  stacks: readonly SynthesizedStack[],
  options: PlanOptions = {},
): Plan {
  const { chosen, notes } =
    action === "deploy"
      ? { chosen: environmentStacks(config, stacks, options.only), notes: nextSteps(config, options.operatorVariables ?? []) }
      : destroyedStacks(config, stacks, options.only);
  const tunnelRefusal = chosen.some((s) => isSqlLayer(config, s)) ? tunnelProblem(config) : undefined;
  const refusal = (action === "destroy" ? options.destroyRefusal?.(config) : undefined) ?? tunnelRefusal;
  const groups = groupsOf(chosen, stacks, action, (stack) => withTunnel(config, stack, action));
  return { action, environment: config.environment, groups, steps: groups.flatMap((g) => g.steps), refusal, nextSteps: notes };
}

/** The stacks destroy takes, in reverse deploy order, and a note for the state stack when it is kept. */
function destroyedStacks(
  config: EnvironmentConfig,
  stacks: readonly SynthesizedStack[],
  only?: readonly Layer[],
): { chosen: SynthesizedStack[]; notes: string[] } {
  const env = config.environment;
  const named = (only ?? []).length > 0;
  const chosen = environmentStacks(config, stacks, only).reverse();
  const withoutState = chosen.filter((s) => !s.name.endsWith("-state"));
  if (!named) {
    return {
      chosen: withoutState,
      notes: [
        `${env}-state (the state bucket ${config.state.bucket}) is kept. To remove it too: empty the bucket, old versions included, ` +
          `then npm run destroy -- ${env} state (README, operations: teardown).`,
      ],
    };
  }
  if (config.state.stateStackBackend === "s3" && withoutState.length < chosen.length) {
    return {
      chosen: withoutState,
      notes: [
        `${env}-state is left in place: its state lives in the bucket it would delete. Move it back first ` +
          `(state.stateStackBackend: "local", then terraform init -migrate-state; README, operations), then destroy it.`,
      ],
    };
  }
  return { chosen, notes: [] };
}

/** A stack's step, inside the tunnel's steps when it is the SQL layer. */
function withTunnel(config: EnvironmentConfig, stack: SynthesizedStack, action: Action): Step[] {
  const step = stackStep(config, stack, action);
  if (step.kind !== "stack" || step.layer !== config.postgresAccess.layer) return [step];
  const tunnel = tunnelSteps(config);
  return [...tunnel.open, step, ...tunnel.close];
}

/** What an operator does after the first deploy: confirm e-mails, set the values only they know, connect. */
function nextSteps(config: EnvironmentConfig, operatorVariables: readonly string[]): string[] {
  const env = config.environment;
  const lines: string[] = [];
  if (config.monitoring.alarmEmails.length > 0) {
    lines.push(
      `Confirm the alarm e-mails: ${config.monitoring.alarmEmails.join(", ")} each received "AWS Notification - Subscription Confirmation"; ` +
        `until the link in it is clicked no alarm arrives. Check with:`,
      `  aws sns list-subscriptions-by-topic --region ${config.region} --topic-arn ${ref(`${env}-observability`, OBSERVABILITY_OUTPUTS.snsTopicArn)} ` +
        `--query "Subscriptions[].[Endpoint,SubscriptionArn]" --output text   (PendingConfirmation = not yet)`,
    );
  } else {
    lines.push(`No alarm e-mail is configured (monitoring.alarmEmails is empty): alarms reach nobody.`);
  }
  if (operatorVariables.length > 0) lines.push(...operatorValueSteps(config, operatorVariables));
  if (config.application === "startupwebapp" && config.email) {
    lines.push(
      `SES SMTP credentials (email section): npm run ses:credentials -- ${env} creates them and writes them into the application secret; ` +
        `no TF_VAR_ is needed for them.`,
    );
  }
  lines.push(`Application secret: ${config.postgresAccess.appSecretName} (${ref(`${env}-data`, DATA_OUTPUTS.appSecretArn)}).`);
  if (config.bastion.enabled) {
    lines.push(
      `Connect with psql: npm run tunnel -- ${env}, then psql "host=127.0.0.1 port=${config.postgresAccess.tunnelPort} sslmode=require ..."`,
    );
  }
  lines.push(`See what is deployed and what it costs: npm run status -- ${env}; npm run cost -- ${env}`);
  return lines;
}

/**
 * How to publish the values only an operator knows. StartupWebApp writes them with their own counter
 * (tenants.operatorValuesVersion): the generated password and Django key stay, and a variable not
 * exported keeps what the secret holds. SafeBucket writes its SMTP login with the generated
 * credentials, under one counter (credentials.version).
 */
function operatorValueSteps(config: EnvironmentConfig, operatorVariables: readonly string[]): string[] {
  const { layer, credentialsVersionKey } = config.postgresAccess;
  const exports = [...operatorVariables.map((v) => `  export TF_VAR_${v}=...`), `  npm run deploy -- ${config.environment} ${layer}`];
  if (config.application === "startupwebapp") {
    return [
      `Set the values only you know (Stripe, SMTP): export the ones you are setting in your shell (never in a file of this repository), ` +
        `raise tenants.operatorValuesVersion in the config, then deploy the ${layer} stack. A variable not exported keeps the value ` +
        `the secret holds; the generated password and Django key stay (${credentialsVersionKey} rotates those).`,
      ...exports,
    ];
  }
  // The SQL layer writes the whole secret document, write-only, only when its version changes.
  return [
    `Set the values only you know (SMTP): export ALL of these in your shell (never in a file of this repository), ` +
      `raise ${credentialsVersionKey} in the config, then deploy the ${layer} stack. Any variable not exported is written as its ` +
      `PLACEHOLDER; the generated credentials are regenerated in the same step.`,
    ...exports,
  ];
}

/** Terraform variables of a synthesized stack that only an operator can supply (sensitive or ephemeral). */
export function operatorVariables(stack: SynthesizedStack | undefined): string[] {
  if (!stack) return [];
  const file = join(stack.dir, "cdk.tf.json");
  if (!existsSync(file)) return [];
  const document = JSON.parse(readFileSync(file, "utf8")) as { variable?: Record<string, { sensitive?: boolean; ephemeral?: boolean }> };
  return Object.entries(document.variable ?? {})
    .filter(([, v]) => v.sensitive === true || v.ephemeral === true)
    .map(([name]) => name)
    .sort();
}
