/**
 * `npm run status`: which stacks of an environment are deployed, their key outputs, and the one
 * command to run next, like the old systems' status.sh. Reads Terraform state only (no AWS SDK), and
 * says plainly when it cannot: no credentials, no state yet, or a Terraform error.
 */
import type { EnvironmentConfig } from "../../config/schema";
import { LAYERS, type Layer } from "../../stacks/layers";
import { ACCESS_OUTPUTS, DATA_OUTPUTS, NETWORK_OUTPUTS, OBSERVABILITY_OUTPUTS } from "../../stacks/outputs";
import { EMAIL_OUTPUTS, WEB_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import { classifyFailure, parseOutputs, type StackOutputs } from "./outputs";
import type { RunResult } from "./terraform";

export type StackState =
  | {
      readonly stack: string;
      readonly layer: Layer;
      readonly status: "deployed";
      readonly resources: number;
      readonly outputs: StackOutputs;
    }
  | { readonly stack: string; readonly layer: Layer; readonly status: "not-deployed" }
  | {
      readonly stack: string;
      readonly layer: Layer;
      readonly status: "unavailable";
      readonly reason: "no-credentials" | "terraform-error";
      readonly detail: string;
    };

/** Runs one terraform command in the stack's folder. */
export type StackTerraform = (args: readonly string[]) => Promise<RunResult>;

/**
 * The state of one stack: `init` against its real backend, `state list` (deployed = it holds
 * resources; a stack may have no outputs), then `output -json` with sensitive values hidden.
 */
export async function readStackState(stack: string, layer: Layer, run: StackTerraform): Promise<StackState> {
  const failure = (result: RunResult): StackState => {
    const why = classifyFailure(stack, result.stderr || result.stdout);
    if (why.reason === "no-state") return { stack, layer, status: "not-deployed" };
    return { stack, layer, status: "unavailable", reason: why.reason, detail: why.message.slice(stack.length + 2) };
  };
  try {
    const init = await run(["init", "-input=false", "-no-color", "-reconfigure"]);
    if (init.code !== 0) return failure(init);
    const list = await run(["state", "list", "-no-color"]);
    if (list.code !== 0) return failure(list);
    const resources = list.stdout.split("\n").filter((l) => l.trim() !== "").length;
    if (resources === 0) return { stack, layer, status: "not-deployed" };
    const output = await run(["output", "-json", "-no-color"]);
    if (output.code !== 0) return failure(output);
    return { stack, layer, status: "deployed", resources, outputs: parseOutputs(output.stdout) };
  } catch (err) {
    return { stack, layer, status: "unavailable", reason: "terraform-error", detail: (err as Error).message };
  }
}

const text = (value: unknown): string | undefined => (value === undefined || value === null || value === "" ? undefined : String(value));

/** The few facts per stack an operator looks for, in words. */
function keyFacts(config: EnvironmentConfig, state: Extract<StackState, { status: "deployed" }>): string[] {
  const o = state.outputs;
  const facts: string[] = [];
  const add = (label: string, value: unknown): void => {
    const v = text(value);
    if (v) facts.push(`${label}: ${v}`);
  };
  switch (state.layer) {
    case "state":
      // The state stack has no outputs of its own (its CI role ARNs only with ci.githubRepository).
      add("bucket", config.state.bucket);
      add("own state", config.state.stateStackBackend === "local" ? `local file terraform.${state.stack}.tfstate` : "in the bucket");
      break;
    case "network":
      add("VPC", o[NETWORK_OUTPUTS.vpcId]);
      add("NAT gateway", config.network.natGateway ? "yes" : "none (private subnets have no internet egress)");
      break;
    case "data": {
      const address = text(o[DATA_OUTPUTS.dbInstanceAddress]);
      add("RDS", o[DATA_OUTPUTS.dbInstanceIdentifier]);
      add("address", address && `${address}:${text(o[DATA_OUTPUTS.dbInstancePort]) ?? 5432}`);
      add("application secret", o[DATA_OUTPUTS.appSecretName]);
      break;
    }
    case "access":
      add("bastion", o[ACCESS_OUTPUTS.bastionInstanceId]);
      add("bastion state", bastionState(config));
      break;
    case "observability":
      add("alarm topic", o[OBSERVABILITY_OUTPUTS.snsTopicArn]);
      add(
        "alarm e-mails",
        config.monitoring.alarmEmails.length > 0
          ? `${config.monitoring.alarmEmails.join(", ")} (each must confirm its subscription)`
          : "none configured",
      );
      break;
    case "email":
      add("SES identity", o[EMAIL_OUTPUTS.identity]);
      add("SMTP user", o[EMAIL_OUTPUTS.smtpUser]);
      add("SMTP credentials", "npm run ses:credentials -- " + config.environment + " (writes them into the application secret)");
      break;
    case "tenants":
      if (config.application !== "startupwebapp") break;
      add("databases", config.tenants.databases.join(", "));
      add("app user", config.tenants.isolation === "shared" ? config.tenants.appUser : "one role per database");
      break;
    case "web": {
      if (config.application !== "startupwebapp" || !config.web) break;
      const alb = text(o[WEB_OUTPUTS.albDnsName]);
      // HTTPS only with a certificate; the web layer always has one (DNS-validated, web.domain).
      add("load balancer", alb && `${alb}:443`);
      add("CloudFront", o[WEB_OUTPUTS.cloudfrontDomainName]);
      add("point DNS", `${config.web.domain} -> the CloudFront domain above`);
      add("image repository", o[WEB_OUTPUTS.ecrRepositoryUrl]);
      const services = o[WEB_OUTPUTS.tenantServices];
      if (services && typeof services === "object") add("tenant services", Object.keys(services).join(", "));
      add("migrations", `npm run migrate -- ${config.environment}`);
      break;
    }
    case "database":
      if (config.application !== "safebucket") break;
      add("database", config.appDatabase.name);
      add("app user", config.appDatabase.username);
      break;
  }
  return facts;
}

/**
 * Running or stopped, as the config asks for: no stack outputs the instance's live state (the tunnel
 * asks EC2 when it needs to know).
 */
export function bastionState(config: EnvironmentConfig): string {
  return `${config.bastion.running ? "running" : "stopped"} (as configured: bastion.running)`;
}

/** The one command to run next, and why. */
export function nextCommand(config: EnvironmentConfig, states: readonly StackState[]): string {
  const env = config.environment;
  if (states.some((s) => s.status === "unavailable" && s.reason === "no-credentials")) {
    return `aws sso login (or export AWS_PROFILE=<profile>), then: npm run status -- ${env}`;
  }
  const broken = states.find((s) => s.status === "unavailable");
  if (broken) return `fix the Terraform error of ${broken.stack} above, then: npm run status -- ${env}`;
  const missing = states.filter((s) => s.status === "not-deployed");
  if (missing.length === states.length) return `npm run deploy -- ${env}   (first deployment: README, operations)`;
  if (missing.length > 0) return `npm run deploy -- ${env}   (deploys what is missing: ${missing.map((s) => s.layer).join(", ")})`;
  if (!config.bastion.enabled) return `nothing to do; npm run cost -- ${env} shows the monthly estimate`;
  const psql = `psql "host=127.0.0.1 port=${config.postgresAccess.tunnelPort} sslmode=require dbname=<database> user=<user>"`;
  if (!config.bastion.running) {
    return `npm run tunnel -- ${env} (starts the stopped bastion for the session and stops it again on Ctrl-C), then ${psql}`;
  }
  return `npm run tunnel -- ${env}, then ${psql}`;
}

/** The report, one block per stack in deploy order. */
export function formatStatus(config: EnvironmentConfig, states: readonly StackState[]): string {
  const ordered = [...states].sort((a, b) => LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer));
  const deployed = ordered.filter((s) => s.status === "deployed").length;
  const lines = [`${config.environment} (${config.project}, ${config.region}): ${deployed}/${ordered.length} stacks deployed`, ""];
  const noCredentials = ordered.filter((s) => s.status === "unavailable" && s.reason === "no-credentials");
  for (const state of ordered) {
    switch (state.status) {
      case "deployed":
        lines.push(`  [x] ${state.stack}  (${state.resources} resources)`, ...keyFacts(config, state).map((f) => `        ${f}`));
        break;
      case "not-deployed":
        lines.push(`  [ ] ${state.stack}  not deployed`);
        break;
      case "unavailable":
        lines.push(
          `  [?] ${state.stack}  ${state.reason === "no-credentials" ? "unknown: no AWS credentials" : "unknown: terraform error"}`,
          ...(state.reason === "terraform-error" ? state.detail.split("\n").map((l) => `        ${l}`) : []),
        );
        break;
    }
  }
  if (noCredentials.length > 0) {
    lines.push(
      "",
      `No usable AWS credentials, so the state in s3://${config.state.bucket} could not be read for ${noCredentials.map((s) => s.layer).join(", ")}.`,
    );
  }
  lines.push("", `next: ${nextCommand(config, ordered)}`);
  return lines.join("\n");
}
