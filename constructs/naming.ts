import type { IConstruct } from "constructs";

const CONTEXT_KEY = "infra:naming";

/**
 * Names of AWS things: `<project>-<env>-<purpose>`. The one place that decides them.
 *
 * An environment stack registers its naming in construct context; any construct below it gets it
 * with `Naming.of(this)`, so no construct builds names from string templates of its own.
 */
export class Naming {
  /** The naming registered by the nearest enclosing environment stack. */
  static of(scope: IConstruct): Naming {
    const found = scope.node.tryGetContext(CONTEXT_KEY) as { project: string; environment: string } | undefined;
    if (!found) {
      throw new Error(
        `${scope.node.path}: no naming in scope; create it inside an EnvironmentStack (or call Naming.register on its stack)`,
      );
    }
    return new Naming(found.project, found.environment);
  }

  /** Makes `Naming.of` work for every construct later added below `scope`. */
  static register(scope: IConstruct, project: string, environment: string): Naming {
    scope.node.setContext(CONTEXT_KEY, { project, environment });
    return new Naming(project, environment);
  }

  constructor(
    readonly project: string,
    readonly environment: string,
  ) {}

  /**
   * `<project>-<env>`, the start of every name; an environment already named after its project
   * (`safebucket-prod` of project `safebucket`) is not prefixed twice.
   */
  get prefix(): string {
    return this.environment.startsWith(`${this.project}-`) ? this.environment : `${this.project}-${this.environment}`;
  }

  /** `startupwebapp-prod-rds-alerts` from `name("rds", "alerts")`. */
  name(...purpose: string[]): string {
    return [this.prefix, ...purpose].join("-");
  }

  /** `rds-alerts` from `startupwebapp-prod-rds-alerts`: a name's purpose; a name without the prefix is returned whole. */
  purposeOf(name: string): string {
    return name.startsWith(`${this.prefix}-`) ? name.slice(this.prefix.length + 1) : name;
  }

  /**
   * `Startupwebapp-prod-RDS` from `title("RDS")`: the project capitalized, for names people read
   * in a console list as titles (CloudWatch dashboards).
   */
  title(...purpose: string[]): string {
    return [this.prefix.charAt(0).toUpperCase() + this.prefix.slice(1), ...purpose].join("-");
  }

  /** The `Name` tag for a resource; the provider's default tags add the rest. */
  tags(...purpose: string[]): { Name: string } {
    return { Name: this.name(...purpose) };
  }
}
