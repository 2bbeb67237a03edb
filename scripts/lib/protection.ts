/**
 * Protection against losing data: a protected environment (`protect`, default: production) keeps
 * `prevent_destroy` on its database, application secret and state bucket, and the destroy command
 * refuses it up front with the deliberate way out, instead of failing halfway through a teardown
 * (tenants and access gone, the database still there).
 */
import type { EnvironmentConfig } from "../../config/schema";

/**
 * Why destroying `config`'s environment must not proceed, and exactly how to unprotect it on
 * purpose; `undefined` when destroy may proceed. RDS deletion protection alone also refuses: RDS
 * would stop the destroy at the data stack.
 */
export function destroyRefusal(config: EnvironmentConfig): string | undefined {
  const { protect, environment: env } = config;
  const { identifier, deletionProtection, skipFinalSnapshot } = config.database;
  if (!protect && !deletionProtection) return undefined;

  const file = `config/${env}.json`;
  const reasons = [
    ...(protect
      ? [
          `"protect" is true (${config.production ? "the default for production" : `set in ${file}`}): the database ${identifier}, ` +
            `the application secret ${config.postgresAccess.appSecretName} and the state bucket ${config.state.bucket} carry prevent_destroy`,
        ]
      : []),
    ...(deletionProtection ? [`RDS deletion protection is on for ${identifier}`] : []),
  ];
  const steps = [
    ...(protect ? [`set "protect": false in ${file} (or in the file INFRA_CONFIG names)`] : []),
    ...(deletionProtection
      ? [
          `set "database": { "deletionProtection": false } in ${file}`,
          // prevent_destroy lives only in the configuration, so the edited file lifts it; deletion
          // protection is a setting on the instance itself, which only a deploy changes.
          `deploy once (npm run deploy -- ${env}) so RDS turns deletion protection off on ${identifier}`,
        ]
      : []),
    `destroy (npm run destroy -- ${env})${skipFinalSnapshot ? "" : `; RDS still takes a final snapshot of ${identifier} first`}`,
  ];
  return [
    `refusing to destroy ${env}: it is protected, so terraform would stop partway with the data still there.`,
    ...reasons.map((r) => `  - ${r}`),
    "To destroy it deliberately:",
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
  ].join("\n");
}
