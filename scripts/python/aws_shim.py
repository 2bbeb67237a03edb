"""`aws` inside `npm run e2e`: the few AWS CLI commands a deploy runs, answered with boto3.

Deploy starts a stopped bastion before the tenants step and stops it afterwards (scripts/lib/operator/plan.ts):
  aws ec2 start-instances --region R --instance-ids I
  aws ec2 wait instance-status-ok --region R --instance-ids I
  aws ec2 stop-instances --region R --instance-ids I
plus `aws ec2 describe-instances` for a person looking around. Anything else exits 2 naming the
command, so a step the emulator cannot serve (an SSM session) fails loudly instead of pretending.

Why not the AWS CLI: v2 is not on PyPI, and v1 would pin its own botocore next to moto's in the
locked venv; these four commands are all a deploy needs, and boto3 comes with moto. The endpoint,
CA and placeholder credentials arrive as AWS_ENDPOINT_URL, AWS_CA_BUNDLE, AWS_ACCESS_KEY_ID, which
boto3 reads like the CLI does.

INFRA_EMULATOR_BOOT_SECONDS (default 0): how long `wait instance-status-ok` takes at least, standing
in for the minutes AWS needs to pass a booting instance's status checks.
"""

import argparse
import json
import os
import sys
import time

import boto3

WAIT_LIMIT_SECONDS = 120


def parse(argv: list[str]) -> tuple[str, argparse.Namespace]:
    if len(argv) < 2 or argv[0] != "ec2":
        fail(argv)
    command = argv[1]
    if command == "wait":
        if len(argv) < 3 or argv[2] != "instance-status-ok":
            fail(argv)
        command, rest = "wait instance-status-ok", argv[3:]
    elif command in ("start-instances", "stop-instances", "describe-instances"):
        rest = argv[2:]
    else:
        fail(argv)
    parser = argparse.ArgumentParser(prog=f"aws ec2 {command}", add_help=False)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--instance-ids", nargs="*", default=[])
    parser.add_argument("--output", default="json")
    parser.add_argument("--query")
    return command, parser.parse_args(rest)


def fail(argv: list[str]) -> None:
    sys.stderr.write(
        f"aws {' '.join(argv)}: not available against the emulator (scripts/python/aws_shim.py serves only "
        "ec2 start-instances, stop-instances, wait instance-status-ok and describe-instances)\n"
    )
    sys.exit(2)


def main() -> None:
    command, args = parse(sys.argv[1:])
    ec2 = boto3.client("ec2", region_name=args.region)
    ids = args.instance_ids
    if command == "start-instances":
        print(json.dumps(ec2.start_instances(InstanceIds=ids)["StartingInstances"], default=str))
    elif command == "stop-instances":
        print(json.dumps(ec2.stop_instances(InstanceIds=ids)["StoppingInstances"], default=str))
    elif command == "describe-instances":
        print(json.dumps(ec2.describe_instances(InstanceIds=ids)["Reservations"], default=str))
    else:
        started = time.monotonic()
        time.sleep(float(os.environ.get("INFRA_EMULATOR_BOOT_SECONDS", "0")))
        while True:
            statuses = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)["InstanceStatuses"]
            if len(statuses) == len(ids) and all(s["InstanceStatus"]["Status"] == "ok" for s in statuses):
                return
            if time.monotonic() - started > WAIT_LIMIT_SECONDS:
                sys.stderr.write(f"Waiter InstanceStatusOk failed: {ids} not ok after {WAIT_LIMIT_SECONDS} s\n")
                sys.exit(255)
            time.sleep(2)


if __name__ == "__main__":
    main()
