/**
 * What a pricer is: a function from one stack's resources of one type to cost lines and notes,
 * written through a PricingContext so every pricer words its lines the same way and the estimate
 * can add up what the CloudWatch always-free allowance covers.
 */
import type { CostCategory, Prices } from "./model";
import type { Resource, ResourceType, StackResources } from "./resources";

export interface PricingContext {
  readonly prices: Prices;
  /** Hours in a month as prices.json counts them (730). */
  readonly hours: number;
  /** The stack's other resources, for a pricer that reads a neighbour (an instance's state, a service's task definition). */
  readonly resources: StackResources;
  /** One line: `basis` says how `monthly` was reached. */
  add(category: CostCategory, item: string, basis: string, monthly: number): void;
  /** `count x price` a month, a line only when there is something to count; returns the count. */
  perUnit(category: CostCategory, item: string, count: number, monthlyPrice: number): number;
  /** CloudWatch Logs ingestion: a line, counted against the always-free 5 GB too. */
  logs(category: CostCategory, item: string, gb: number, assumption: string): void;
  /** Said once under the table, however many resources say it. */
  note(text: string): void;
  /** Alarms or dashboards the always-free allowance may cover. */
  use(kind: "alarms" | "dashboards", count: number): void;
}

/** Prices every resource of one type in one stack; called only when the stack has at least one. */
export type Pricer<K extends ResourceType> = (resources: readonly Resource<K>[], ctx: PricingContext) => void;
