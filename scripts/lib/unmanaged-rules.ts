/**
 * Security group rules nobody declared: drift that no plan shows by itself.
 *
 * Every rule of ours is its own resource (`aws_vpc_security_group_ingress_rule` / `_egress_rule`,
 * constructs/security-group.ts), often in another stack than its group, and the groups set no inline
 * `ingress`/`egress`. So a rule added by hand (say tcp 22 from 0.0.0.0/0) changes no managed
 * attribute: no apply would remove it and `driftOf` (plan-review.ts) rightly ignores the group's
 * refreshed `ingress`. Yet the configuration does declare each group's whole rule set, so a rule
 * the group holds that no rule resource of the environment matches is drift too. This compares the
 * refreshed groups with the refreshed rule resources of all the environment's plans at once, which
 * is only sound when every stack that declares rules was planned (`ruleStacks` says which).
 */
import type { ReviewedChange, ShowJsonPlan, StackReview, StateModule } from "./plan-review";

/** Resource types that declare one security group rule each. */
export const RULE_TYPES: readonly string[] = [
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_security_group_rule",
];

type Values = Record<string, unknown>;
type Direction = "ingress" | "egress";

type StateResource = NonNullable<StateModule["resources"]>[number];

/** The resources of a plan's refreshed state (`prior_state`), root module and child modules. */
function stateResources(plan: ShowJsonPlan): StateResource[] {
  const walk = (module: StateModule | undefined): StateResource[] => [
    ...(module?.resources ?? []),
    ...(module?.child_modules ?? []).flatMap(walk),
  ];
  return walk(plan.prior_state?.values?.root_module).filter((r) => r.mode !== "data");
}

/** `tcp 22 from 0.0.0.0/0`: one protocol, port range and peer, as a person reads it and as a set key. */
function ruleText(direction: Direction, protocol: unknown, from: unknown, to: unknown, peer: string): string {
  const proto = String(protocol ?? "-1");
  const all = proto === "-1" || proto === "all";
  const ports = all ? "all traffic" : from === to ? `${proto} ${String(from)}` : `${proto} ${String(from)}-${String(to)}`;
  return `${ports} ${direction === "ingress" ? "from" : "to"} ${peer}`;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
/** `123456789012/sg-1` (another account's group) -> `sg-1`; only for group ids, never CIDRs. */
const groupId = (id: string): string => id.split("/").pop() ?? id;

/** The rules one refreshed `ingress` or `egress` entry of a group stands for, one per peer. */
function groupEntryRules(direction: Direction, groupIdSelf: string, entry: Values): string[] {
  const peers = [
    ...strings(entry.cidr_blocks),
    ...strings(entry.ipv6_cidr_blocks),
    ...strings(entry.prefix_list_ids),
    ...strings(entry.security_groups).map(groupId),
    ...(entry.self === true ? [groupIdSelf] : []),
  ];
  return peers.map((peer) => ruleText(direction, entry.protocol, entry.from_port, entry.to_port, peer));
}

/** `{ group id -> rule texts }` of the rules the environment's rule resources declare. */
function declaredRules(resources: readonly StateResource[]): Map<string, Set<string>> {
  const declared = new Map<string, Set<string>>();
  const add = (group: unknown, text: string): void => {
    if (typeof group !== "string") return;
    if (!declared.has(group)) declared.set(group, new Set());
    declared.get(group)!.add(text);
  };
  for (const r of resources) {
    const v = r.values ?? {};
    if (r.type === "aws_vpc_security_group_ingress_rule" || r.type === "aws_vpc_security_group_egress_rule") {
      const direction: Direction = r.type.endsWith("ingress_rule") ? "ingress" : "egress";
      const group = typeof v.referenced_security_group_id === "string" ? groupId(v.referenced_security_group_id) : undefined;
      const peer = [v.cidr_ipv4, v.cidr_ipv6, v.prefix_list_id, group].find((p) => typeof p === "string" && p !== "");
      if (typeof peer === "string") add(v.security_group_id, ruleText(direction, v.ip_protocol, v.from_port, v.to_port, peer));
    } else if (r.type === "aws_security_group_rule") {
      const direction: Direction = v.type === "egress" ? "egress" : "ingress";
      const peers = [
        ...strings(v.cidr_blocks),
        ...strings(v.ipv6_cidr_blocks),
        ...strings(v.prefix_list_ids),
        ...(typeof v.source_security_group_id === "string" ? [groupId(v.source_security_group_id)] : []),
        ...(v.self === true && typeof v.security_group_id === "string" ? [v.security_group_id] : []),
      ];
      for (const peer of peers) add(v.security_group_id, ruleText(direction, v.protocol, v.from_port, v.to_port, peer));
    }
  }
  return declared;
}

/** Whether the configuration of `address` in `plan` sets `attribute` itself (inline rules). */
function configures(plan: ShowJsonPlan, address: string, attribute: string): boolean {
  const resource = plan.configuration?.root_module?.resources?.find((r) => r.address === address);
  return resource?.expressions?.[attribute] !== undefined;
}

/**
 * Per stack, the groups that hold rules no rule resource declares, as drift of their `ingress` or
 * `egress`: `+ tcp 22 from 0.0.0.0/0`. `plans` are every planned stack of one environment.
 */
export function unmanagedRuleDrift(plans: readonly { stack: string; plan: ShowJsonPlan }[]): Map<string, ReviewedChange[]> {
  const declared = declaredRules(plans.flatMap((p) => stateResources(p.plan)));
  const result = new Map<string, ReviewedChange[]>();
  for (const { stack, plan } of plans) {
    for (const group of stateResources(plan).filter((r) => r.type === "aws_security_group")) {
      const v = group.values ?? {};
      if (typeof v.id !== "string") continue;
      const values: Record<string, string> = {};
      for (const direction of ["ingress", "egress"] as const) {
        // Inline rules are managed attributes: plan-review's driftOf already compares them.
        if (configures(plan, group.address, direction)) continue;
        const known = declared.get(v.id) ?? new Set<string>();
        const held = (Array.isArray(v[direction]) ? (v[direction] as Values[]) : []).flatMap((e) =>
          groupEntryRules(direction, v.id as string, e),
        );
        const extra = [...new Set(held.filter((rule) => !known.has(rule)))].sort();
        if (extra.length > 0) values[direction] = extra.map((rule) => `+ ${rule}`).join(", ");
      }
      const attributes = Object.keys(values);
      if (attributes.length === 0) continue;
      const change: ReviewedChange = {
        address: group.address,
        type: group.type,
        action: "update",
        replacePaths: [],
        changedAttributes: attributes,
        danger: false,
        values,
      };
      result.set(stack, [...(result.get(stack) ?? []), change]);
    }
  }
  return result;
}

/** The stacks whose synthesized JSON declares security group rules: all must be planned for the check. */
export function declaresRules(document: { resource?: Record<string, unknown> }): boolean {
  return RULE_TYPES.some((type) => document.resource?.[type] !== undefined);
}

/** `review` with `extra` drift added, merged into an entry of the same address. */
export function withDrift(review: StackReview, extra: readonly ReviewedChange[]): StackReview {
  const drift = [...review.drift];
  for (const change of extra) {
    const i = drift.findIndex((d) => d.address === change.address && d.action === "update");
    if (i < 0) {
      drift.push(change);
      continue;
    }
    const merged = drift[i];
    drift[i] = {
      ...merged,
      changedAttributes: [...new Set([...merged.changedAttributes, ...change.changedAttributes])].sort(),
      values: { ...merged.values, ...change.values },
    };
  }
  return { ...review, drift };
}
