"""What `npm run e2e` asks the emulator directly, through the AWS API (boto3), never through Terraform:
what an environment has left there, an out-of-band change for drift to find, a bastion's state.

  inventory   --env E --region R     JSON list of the ARNs tagged Environment=E (R, and us-east-1 for IAM)
  change      --env E --region R --kind backup-retention|alarm-threshold|security-group-rule
                                     makes one change and prints JSON {type, name, attribute, from, to}
  bastion-state --env E --region R  the state of the environment's instances (not terminated), one a line

The endpoint, CA and placeholder credentials come from AWS_ENDPOINT_URL, AWS_CA_BUNDLE and
AWS_ACCESS_KEY_ID, set by scripts/e2e.ts.
"""

import argparse
import json
import sys

import boto3


def tagged(env: str, region: str) -> list[str]:
    """ARNs tagged Environment=env that still exist: a terminated instance (AWS lists it for an hour),
    a deleted NAT gateway, an INACTIVE ECS cluster, service or task definition, and a KMS key waiting
    out its deletion window (AWS's minimum is 7 days) are gone for good and left out."""
    arns: set[str] = set()
    for r in sorted({region, "us-east-1"}):
        client = boto3.client("resourcegroupstaggingapi", region_name=r)
        for page in client.get_paginator("get_resources").paginate(TagFilters=[{"Key": "Environment", "Values": [env]}]):
            for item in page["ResourceTagMappingList"]:
                arns.add(item["ResourceARN"])
    return sorted(arn for arn in arns if not gone(arn))


def gone(arn: str) -> bool:
    parts = arn.split(":")
    service, region, resource = parts[2], parts[3], ":".join(parts[5:])
    if service == "ec2" and resource.startswith("instance/"):
        ec2 = boto3.client("ec2", region_name=region)
        reservations = ec2.describe_instances(InstanceIds=[resource.split("/", 1)[1]])["Reservations"]
        return all(i["State"]["Name"] == "terminated" for r in reservations for i in r["Instances"])
    if service == "ec2" and resource.startswith("natgateway/"):
        # AWS, like moto, lists a deleted NAT gateway for about an hour in state "deleted".
        ec2 = boto3.client("ec2", region_name=region)
        gateways = ec2.describe_nat_gateways(NatGatewayIds=[resource.split("/", 1)[1]])["NatGateways"]
        return all(g["State"] in ("deleted", "deleting") for g in gateways)
    if service == "ecs":
        # AWS keeps a deleted cluster, service or deregistered task definition describable as INACTIVE
        # (task definitions indefinitely); moto does the same, and lists them by tag.
        ecs = boto3.client("ecs", region_name=region)
        kind, _, name = resource.partition("/")
        if kind == "cluster":
            return all(c["status"] == "INACTIVE" for c in ecs.describe_clusters(clusters=[arn])["clusters"])
        if kind == "service":
            cluster = name.split("/")[0]
            found = ecs.describe_services(cluster=cluster, services=[arn])["services"]
            return all(s["status"] in ("INACTIVE", "DRAINING") for s in found)
        if kind == "task-definition":
            return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] in ("INACTIVE", "DELETE_IN_PROGRESS")
    if service == "kms" and resource.startswith("key/"):
        kms = boto3.client("kms", region_name=region)
        return kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    return False


def has_tag(tags: list[dict], env: str) -> bool:
    return any(t.get("Key") == "Environment" and t.get("Value") == env for t in tags or [])


def change_backup_retention(env: str, region: str) -> dict:
    rds = boto3.client("rds", region_name=region)
    for db in rds.describe_db_instances()["DBInstances"]:
        if has_tag(db.get("TagList", []), env):
            before = db["BackupRetentionPeriod"]
            after = before + 2
            rds.modify_db_instance(
                DBInstanceIdentifier=db["DBInstanceIdentifier"], BackupRetentionPeriod=after, ApplyImmediately=True
            )
            return {"type": "aws_db_instance", "name": db["DBInstanceIdentifier"], "attribute": "backup_retention_period",
                    "from": before, "to": after}
    raise SystemExit(f"no RDS instance tagged Environment={env} in {region}")


ALARM_FIELDS = [
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
]


def change_alarm_threshold(env: str, region: str) -> dict:
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    for alarm in sorted(alarms, key=lambda a: a["AlarmName"]):
        if "Threshold" not in alarm:
            continue
        tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        if not has_tag(tags, env):
            continue
        before = alarm["Threshold"]
        after = before * 2 if before else 1.0
        # PutMetricAlarm replaces the alarm: everything else is sent back unchanged, tags included.
        request = {k: alarm[k] for k in ALARM_FIELDS if alarm.get(k) not in (None, [], "")}
        request["Threshold"] = after
        request["Tags"] = tags
        cloudwatch.put_metric_alarm(**request)
        return {"type": "aws_cloudwatch_metric_alarm", "name": alarm["AlarmName"], "attribute": "threshold",
                "from": before, "to": after}
    raise SystemExit(f"no alarm with a threshold tagged Environment={env} in {region}")


def change_security_group_rule(env: str, region: str) -> dict:
    ec2 = boto3.client("ec2", region_name=region)
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:Environment", "Values": [env]}])["SecurityGroups"]
    ids = sorted(g["GroupId"] for g in groups)
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": ids}])["SecurityGroupRules"]
    for rule in sorted(rules, key=lambda r: r["SecurityGroupRuleId"]):
        if rule.get("IsEgress") or not rule.get("Description"):
            continue
        request = {
            "IpProtocol": rule["IpProtocol"],
            "FromPort": rule["FromPort"],
            "ToPort": rule["ToPort"],
            "Description": f"{rule['Description']} (changed by hand)",
        }
        for source in ("CidrIpv4", "CidrIpv6", "PrefixListId"):
            if rule.get(source):
                request[source] = rule[source]
        if rule.get("ReferencedGroupInfo"):
            request["ReferencedGroupId"] = rule["ReferencedGroupInfo"]["GroupId"]
        ec2.modify_security_group_rules(
            GroupId=rule["GroupId"],
            SecurityGroupRules=[{"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "SecurityGroupRule": request}],
        )
        return {"type": "aws_vpc_security_group_ingress_rule", "name": rule["SecurityGroupRuleId"],
                "attribute": "description", "from": rule["Description"], "to": request["Description"]}
    raise SystemExit(f"no described ingress rule in the security groups tagged Environment={env} in {region}")


CHANGES = {
    "backup-retention": change_backup_retention,
    "alarm-threshold": change_alarm_threshold,
    "security-group-rule": change_security_group_rule,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    inventory = sub.add_parser("inventory")
    inventory.add_argument("--env", required=True)
    inventory.add_argument("--region", required=True)
    change = sub.add_parser("change")
    change.add_argument("--env", required=True)
    change.add_argument("--region", required=True)
    change.add_argument("--kind", required=True, choices=sorted(CHANGES))
    state = sub.add_parser("bastion-state")
    state.add_argument("--env", required=True)
    state.add_argument("--region", required=True)
    args = parser.parse_args()

    if args.command == "inventory":
        print(json.dumps(tagged(args.env, args.region)))
    elif args.command == "change":
        print(json.dumps(CHANGES[args.kind](args.env, args.region), default=str))
    else:
        ec2 = boto3.client("ec2", region_name=args.region)
        filters = [{"Name": "tag:Environment", "Values": [args.env]}]
        for reservation in ec2.describe_instances(Filters=filters)["Reservations"]:
            for instance in reservation["Instances"]:
                if instance["State"]["Name"] != "terminated":
                    print(instance["State"]["Name"])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
