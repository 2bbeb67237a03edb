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

/** `<env>-web` (only with a `web` section); npm run migrate and manage read the first five. */
export const WEB_OUTPUTS = {
  clusterName: "cluster_name",
  /** tenant database -> { service_name, task_definition_family, container_name, log_group_name, log_stream_prefix } */
  tenantServices: "tenant_services",
  taskSubnetIds: "task_subnet_ids",
  taskSecurityGroupIds: "task_security_group_ids",
  taskAssignPublicIp: "task_assign_public_ip",
  albDnsName: "alb_dns_name",
  cloudfrontDomainName: "cloudfront_domain_name",
  cloudfrontHostedZoneId: "cloudfront_hosted_zone_id",
  cloudfrontDistributionId: "cloudfront_distribution_id",
  ecrRepositoryUrl: "ecr_repository_url",
  staticBucketName: "static_bucket_name",
  mediaBucketName: "media_bucket_name",
  certificateValidationRecords: "certificate_validation_records",
  cdnCertificateValidationRecords: "cdn_certificate_validation_records",
  dashboardName: "web_dashboard_name",
} as const satisfies OutputNames;
