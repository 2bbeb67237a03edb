/**
 * StartupWebApp's stack outputs, by layer (see stacks/outputs.ts): light, so scripts import the names
 * without loading cdktf.
 */
import type { OutputNames } from "../outputs";

/** `<env>-email` (only with an `email` section); npm run ses:credentials reads `smtpUser`. */
export const EMAIL_OUTPUTS = {
  identity: "email_identity_arn",
  configurationSet: "email_configuration_set",
  eventTopic: "email_event_topic_arn",
  smtpUser: "smtp_user_name",
  dnsRecords: "email_dns_records",
  alarms: "email_alarm_names",
} as const satisfies OutputNames;

/** `<env>-tenants`. */
export const TENANTS_OUTPUTS = {
  tenantDatabases: "tenant_databases",
  tenantUsernames: "tenant_usernames",
  tenantSecretNames: "tenant_secret_names",
} as const satisfies OutputNames;
