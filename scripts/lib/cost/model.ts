/**
 * The shapes of a cost estimate and the small helpers every pricer shares: the price file's type,
 * what a line is, and how money is written.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import defaultPrices from "../../prices.json";
import type { TerraformDocument } from "./resources";

export { defaultPrices };

export type Prices = typeof defaultPrices;

/** What a line is for, so totals can be read "without NAT and bastion" like the old systems quoted them. */
export type CostCategory =
  "database" | "network" | "bastion" | "monitoring" | "secrets" | "storage" | "cache" | "services" | "email" | "web" | "free-tier";

export interface CostLine {
  readonly stack: string;
  readonly category: CostCategory;
  readonly item: string;
  /** How the figure was reached: `730 h x $0.032/h`. */
  readonly basis: string;
  readonly monthly: number;
}

export interface CostEstimate {
  readonly region: string;
  /** True when the stacks are outside the price file's region: figures are us-east-1's. */
  readonly approximate: boolean;
  readonly pricesAsOf: string;
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly byCategory: Readonly<Partial<Record<CostCategory, number>>>;
  readonly notes: readonly string[];
}

/** One synthesized stack: its name and its cdk.tf.json. */
export interface StackDocument {
  readonly stack: string;
  readonly json: TerraformDocument;
}

export interface CostOptions {
  /** Deduct CloudWatch's always-free allowance (it is per account, so only when nothing else uses it). @default false */
  readonly freeTier?: boolean;
  /** @default scripts/prices.json */
  readonly prices?: Prices;
}

/** Reads `cdk.tf.json` of each synthesized stack folder. */
export function readStackDocuments(stacks: readonly { name: string; dir: string }[]): StackDocument[] {
  return stacks.map((s) => ({ stack: s.name, json: JSON.parse(readFileSync(join(s.dir, "cdk.tf.json"), "utf8")) as TerraformDocument }));
}

/** `$0.0042`, `$0.032`, `$0.10`, `$3.00`: as many decimals as the price has, at least two. */
export const money = (n: number): string => `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;

export const round2 = (n: number): number => Math.round(n * 100) / 100;
