/**
 * Which stacks (layers) an environment has, in deploy order. Imports no cdktf, so the operator
 * scripts can name and order layers without loading the stacks.
 */
import type { Application, EnvironmentConfig } from "../config/schema";

/** The platform core's layers, in deploy order: every environment has them. */
export const CORE_LAYERS = ["state", "network", "data", "access", "observability"] as const;

/** Each application's own layers, deployed after the core, in order. */
export const APPLICATION_LAYERS = {
  startupwebapp: ["email", "tenants", "web"],
  safebucket: ["database", "services"],
} as const satisfies Record<Application, readonly string[]>;

/** Every layer any environment can have, core first. */
export const LAYERS = [...CORE_LAYERS, ...new Set(Object.values(APPLICATION_LAYERS).flat())] as readonly Layer[];
export type Layer = (typeof CORE_LAYERS)[number] | (typeof APPLICATION_LAYERS)[Application][number];

/** Layers an environment has only when its config asks for them. */
const OPTIONAL_LAYERS: Partial<Record<Layer, (config: EnvironmentConfig) => boolean>> = {
  // StartupWebApp's SES domain, sender and reputation alarms: only with an `email` section.
  email: (config) => config.application === "startupwebapp" && config.email !== undefined,
  // StartupWebApp's ECR, Fargate services, load balancer and CloudFront: only with a `web` section.
  web: (config) => config.application === "startupwebapp" && config.web !== undefined,
};

/** The layers `config`'s environment has, in deploy order. */
export function layersOf(config: EnvironmentConfig): Layer[] {
  return [...CORE_LAYERS, ...APPLICATION_LAYERS[config.application]].filter((layer) => OPTIONAL_LAYERS[layer]?.(config) ?? true);
}
