/**
 * The e2e emulator itself: moto over TLS on a loopback port, trusted only through its throwaway CA,
 * with the AWS behaviours the launcher restores, and nothing left running or on disk after stop().
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { emulatorEnv } from "../../scripts/lib/emulator";
import { startMoto, type Emulator } from "../../scripts/lib/moto";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startMoto();
}, 900_000); // the first run on a clean clone installs the pinned venv (about 150 MB)

afterAll(async () => {
  await emulator?.stop();
});

/** Runs python code in the venv against the emulator; resolves with its stdout. */
function python(code: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(emulator.python.python, ["-c", code], {
      env: {
        ...process.env,
        ...emulatorEnv({ endpoint: emulator.endpoint, caBundle: emulator.caBundle, stateDir: emulator.dir }),
        AWS_DEFAULT_REGION: "us-east-1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", (c) => resolve({ code: c ?? 1, out: out.trim() }));
  });
}

/** The emulator's request log as lines, once `ready` holds for its text (polled, at most 10 s). */
async function logLines(ready: (text: string) => boolean): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = readFileSync(emulator.log, "utf8");
    if (ready(text) || Date.now() > deadline) return text.split("\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("it serves TLS on 127.0.0.1 with a certificate only its own CA vouches for", async () => {
  expect(emulator.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const trusted = await python("import boto3; print(boto3.client('sts').get_caller_identity()['Account'])");
  expect(trusted).toEqual({ code: 0, out: "123456789012" });
  // verify=True: the default trust store (certifi), without the emulator's CA
  const untrusted = await python("import boto3; boto3.client('sts', verify=True).get_caller_identity()");
  expect(untrusted.code).not.toBe(0);
  expect(untrusted.out).toMatch(/CERTIFICATE_VERIFY_FAILED/);
});

test("a TLS-only bucket policy lets requests over TLS through, as on AWS", async () => {
  const run = await python(`
import boto3, json
s3 = boto3.client("s3")
s3.create_bucket(Bucket="tls-only")
s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
  "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
s3.put_object(Bucket="tls-only", Key="k", Body=b"v")
print(s3.get_object(Bucket="tls-only", Key="k")["Body"].read().decode())
`);
  expect(run).toEqual({ code: 0, out: "v" });
});

test("RDS accepts a backup window that ends where the maintenance window starts, keeps Performance Insights, gives each instance its own resource id and AWS's default CA", async () => {
  const run = await python(`
import boto3
rds = boto3.client("rds")
db = rds.create_db_instance(DBInstanceIdentifier="adjacent", DBInstanceClass="db.t4g.micro", Engine="postgres",
  MasterUsername="u", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
  PreferredBackupWindow="03:00-04:00", PreferredMaintenanceWindow="sun:04:00-sun:05:00",
  EnablePerformanceInsights=True)["DBInstance"]
print(db["PreferredBackupWindow"], db["PerformanceInsightsEnabled"], db["PerformanceInsightsRetentionPeriod"])
other = rds.create_db_instance(DBInstanceIdentifier="other", DBInstanceClass="db.t4g.micro", Engine="postgres",
  MasterUsername="u", MasterUserPassword="not-a-secret-1", AllocatedStorage=20)["DBInstance"]
print(db["DbiResourceId"] != other["DbiResourceId"], other["CACertificateIdentifier"])
`);
  expect(run).toEqual({ code: 0, out: "03:00-04:00 True 7\nTrue rds-ca-rsa2048-g1" });
});

test("an instance's root volume without a size takes the image's, another attribute's change keeps its groups, and a group-referencing rule keeps its description", async () => {
  const run = await python(`
import boto3
ec2 = boto3.client("ec2")
image = ec2.describe_images()["Images"][0]["ImageId"]
vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
a = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
b = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[b],
  BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp3", "Encrypted": True}}])["Instances"][0]
ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], InstanceInitiatedShutdownBehavior={"Value": "stop"})
described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
by_interface = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
  NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [b], "AssociatePublicIpAddress": True}])["Instances"][0]
print([g["GroupId"] == b for g in described["SecurityGroups"] + by_interface["SecurityGroups"]])
ec2.authorize_security_group_ingress(GroupId=a, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
  "UserIdGroupPairs": [{"GroupId": b, "Description": "PostgreSQL from b"}]}])
rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [a]}])["SecurityGroupRules"]
print([r.get("Description") for r in rules if not r["IsEgress"]])
`);
  expect(run).toEqual({ code: 0, out: "[True, True]\n['PostgreSQL from b']" });
});

test("ElastiCache parameter groups, user groups, subnet group deletion and a replication group's member clusters (as many as asked, with its security groups), which moto lacks, answer as AWS documents them", async () => {
  const run = await python(`
import boto3
ec = boto3.client("elasticache")
ec.create_cache_parameter_group(CacheParameterGroupName="p", CacheParameterGroupFamily="redis7", Description="d",
  Tags=[{"Key": "Environment", "Value": "t"}])
ec.modify_cache_parameter_group(CacheParameterGroupName="p",
  ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}])
print([(p["ParameterName"], p["ParameterValue"], p["Source"]) for p in ec.describe_cache_parameters(CacheParameterGroupName="p", Source="user")["Parameters"]])
group = ec.describe_cache_parameter_groups(CacheParameterGroupName="p")["CacheParameterGroups"][0]
print(group["CacheParameterGroupFamily"], ec.list_tags_for_resource(ResourceName=group["ARN"])["TagList"])
ec.create_user(UserId="app", UserName="app", Engine="redis", AccessString="on ~* +@all", AuthenticationMode={"Type": "iam"})
print(ec.create_user_group(UserGroupId="g", Engine="redis", UserIds=["default", "app"])["Status"])
ec2 = boto3.client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
ec.create_cache_subnet_group(CacheSubnetGroupName="s", CacheSubnetGroupDescription="s", SubnetIds=[subnet])
sg = ec2.create_security_group(GroupName="redis", Description="r", VpcId=vpc)["GroupId"]
ec.create_replication_group(ReplicationGroupId="r", ReplicationGroupDescription="r", Engine="redis", CacheNodeType="cache.t3.micro",
  NumCacheClusters=1, CacheParameterGroupName="p", CacheSubnetGroupName="s", UserGroupIds=["g"], SecurityGroupIds=[sg],
  AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True, TransitEncryptionMode="required")
members = ec.describe_replication_groups(ReplicationGroupId="r")["ReplicationGroups"][0]["MemberClusters"]
clusters = [c for m in members for c in ec.describe_cache_clusters(CacheClusterId=m)["CacheClusters"]]
print([c["CacheClusterStatus"] for c in clusters], [g["SecurityGroupId"] == sg for c in clusters for g in c["SecurityGroups"]],
  [(c["AtRestEncryptionEnabled"], c["TransitEncryptionMode"]) for c in clusters])
try:
    ec.delete_cache_subnet_group(CacheSubnetGroupName="s")
except ec.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
ec.delete_replication_group(ReplicationGroupId="r")
print(ec.describe_replication_groups()["ReplicationGroups"], ec.describe_cache_clusters()["CacheClusters"])
pair = ec.create_replication_group(ReplicationGroupId="pair", ReplicationGroupDescription="p", Engine="redis", CacheNodeType="cache.t3.micro",
  NumCacheClusters=2, AutomaticFailoverEnabled=True, MultiAZEnabled=True)["ReplicationGroup"]
print(pair["MemberClusters"], sorted(c["CacheClusterId"] for c in ec.describe_cache_clusters()["CacheClusters"]))
ec.delete_replication_group(ReplicationGroupId="pair")
ec.delete_cache_subnet_group(CacheSubnetGroupName="s")
print(ec.describe_cache_subnet_groups()["CacheSubnetGroups"])
ec.delete_cache_parameter_group(CacheParameterGroupName="p")
try:
    ec.describe_cache_parameter_groups(CacheParameterGroupName="p")
except ec.exceptions.CacheParameterGroupNotFoundFault as e:
    print("gone")
`);
  expect(run).toEqual({
    code: 0,
    out: "[('maxmemory-policy', 'allkeys-lru', 'user')]\nredis7 [{'Key': 'Environment', 'Value': 't'}]\nactive\n['available'] [True] [(True, 'required')]\nCacheSubnetGroupInUse\n[] []\n['pair-001', 'pair-002'] ['pair-001', 'pair-002']\n[]\ngone",
  });
});

test("an SQS queue returns its redrive allow policy and a compact redrive policy, and setting one keeps the queue's access policy", async () => {
  const run = await python(`
import boto3, json
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]})
sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})})
attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
named = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
source = sqs.create_queue(QueueName="source", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})})["QueueUrl"]
redrive = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
print(json.loads(named["RedriveAllowPolicy"])["redrivePermission"], attributes["Policy"] == policy,
  "RedriveAllowPolicy" in sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["All"])["Attributes"],
  redrive == '{"deadLetterTargetArn":"' + arn + '","maxReceiveCount":5}')
`);
  expect(run).toEqual({ code: 0, out: "allowAll True False True" });
});

test("an Application Auto Scaling target keeps the tags given at registration", async () => {
  const run = await python(`
import boto3
ecs = boto3.client("ecs")
ecs.create_cluster(clusterName="c")
ecs.register_task_definition(family="f", containerDefinitions=[{"name": "n", "image": "i", "memory": 128}])
ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1)
aas = boto3.client("application-autoscaling")
arn = aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/c/s", ScalableDimension="ecs:service:DesiredCount",
  MinCapacity=1, MaxCapacity=2, Tags={"Environment": "t"})["ScalableTargetARN"]
aas.tag_resource(ResourceARN=arn, Tags={"Owner": "o"})
print(sorted(aas.list_tags_for_resource(ResourceARN=arn)["Tags"].items()))
`);
  expect(run).toEqual({ code: 0, out: "[('Environment', 't'), ('Owner', 'o')]" });
});

test("an ECS service returns the capacity provider strategy, AZ rebalancing, managed tags and grace period it was created with", async () => {
  const run = await python(`
import boto3
ecs = boto3.client("ecs")
ecs.create_cluster(clusterName="spot", capacityProviders=["FARGATE", "FARGATE_SPOT"])
ecs.register_task_definition(family="f", containerDefinitions=[{"name": "n", "image": "i", "memory": 128}])
strategy = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 3}]
ecs.create_service(cluster="spot", serviceName="s", taskDefinition="f", desiredCount=1, capacityProviderStrategy=strategy,
  availabilityZoneRebalancing="DISABLED", enableECSManagedTags=True, healthCheckGracePeriodSeconds=60)
service = ecs.describe_services(cluster="spot", services=["s"])["services"][0]
print(service["capacityProviderStrategy"] == strategy, service["availabilityZoneRebalancing"], service["enableECSManagedTags"],
  service["healthCheckGracePeriodSeconds"])
`);
  expect(run).toEqual({ code: 0, out: "True DISABLED True 60" });
});

test("reading a secret scheduled for deletion fails as AWS words it, which the provider takes as a version that is gone", async () => {
  const run = await python(`
import boto3
sm = boto3.client("secretsmanager")
sm.create_secret(Name="going", SecretString="placeholder")
sm.delete_secret(SecretId="going", RecoveryWindowInDays=7)
try:
    sm.get_secret_value(SecretId="going")
except sm.exceptions.InvalidRequestException as e:
    print(e.response["Error"]["Message"])
`);
  expect(run).toEqual({ code: 0, out: "You can't perform this operation on the secret because it was marked for deletion." });
});

test("CloudFront response headers policies, which moto lacks, keep their config and demand the current ETag, as AWS does", async () => {
  const run = await python(`
import boto3
cf = boto3.client("cloudfront")
config = {"Name": "hsts", "Comment": "web", "SecurityHeadersConfig": {"StrictTransportSecurity": {
  "Override": True, "IncludeSubdomains": True, "Preload": True, "AccessControlMaxAgeSec": 63072000}}}
made = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
pid, etag = made["ResponseHeadersPolicy"]["Id"], made["ETag"]
got = cf.get_response_headers_policy(Id=pid)
print(got["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["StrictTransportSecurity"]["AccessControlMaxAgeSec"])
try:
    cf.delete_response_headers_policy(Id=pid, IfMatch="stale")
except cf.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
cf.delete_response_headers_policy(Id=pid, IfMatch=got["ETag"])
try:
    cf.get_response_headers_policy(Id=pid)
except cf.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
`);
  expect(run.code).toBe(0);
  expect(run.out.split("\n")).toEqual(["63072000", "PreconditionFailed", "NoSuchResponseHeadersPolicy"]);
});

test("an ECS service keeps enableExecuteCommand (ECS Exec for npm run manage), which moto drops", async () => {
  const run = await python(`
import boto3
ecs = boto3.client("ecs")
ecs.create_cluster(clusterName="web")
ecs.register_task_definition(family="app", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 512}])
ecs.create_service(cluster="web", serviceName="app", taskDefinition="app", desiredCount=0, enableExecuteCommand=True)
print(ecs.describe_services(cluster="web", services=["app"])["services"][0].get("enableExecuteCommand"))
`);
  expect(run).toEqual({ code: 0, out: "True" });
});

test("moto handles one call at a time, as AWS's APIs are atomic per call; the control without the lock overlaps", async () => {
  // A stand-in for moto: counts the calls inside it at once and yields the interpreter while inside.
  const run = await python(`
import sys, threading, time
sys.path.insert(0, ${JSON.stringify(join(__dirname, "../../scripts/python"))})
from moto_launcher import one_at_a_time

def measure(wrap):
    inside, most, guard = [0], [0], threading.Lock()
    def app(environ, start_response):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.002)
        with guard:
            inside[0] -= 1
        start_response("200 OK", [])
        return [b"an", b"swer"]
    served = wrap(app)
    bodies = []
    threads = [threading.Thread(target=lambda: bodies.append(b"".join(served({}, lambda s, h, e=None: None)))) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return most[0], set(bodies)

print(measure(one_at_a_time), measure(lambda app: app))
`);
  expect(run.code).toBe(0);
  const [serialized, control] = run.out.split(") (");
  expect(serialized).toBe("(1, {b'answer'}");
  expect(control).toMatch(/^[2-8], \{b'answer'\}\)$/);
});

test("the request log names each call with a digest of its body, and its status once answered", async () => {
  const run = await python(`
import boto3
ec2 = boto3.client("ec2")
ec2.describe_vpcs()
ec2.describe_vpcs()
try:
    ec2.delete_vpc(VpcId="vpc-00000000000000000")
except ec2.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
`);
  expect(run.out).toBe("InvalidVpcID.NotFound");
  // moto's stderr reaches the file through this process's pipe: wait (bounded) for the last answer's line.
  const lines = await logLines((all) => /#\d+ 400 after/.test(all));
  const calls = lines.flatMap((l) => {
    const m = /#(\d+) action (DescribeVpcs|DeleteVpc) \[([0-9a-f]{10})\]$/.exec(l);
    return m ? [{ n: m[1], action: m[2], digest: m[3] }] : [];
  });
  const describes = calls.filter((c) => c.action === "DescribeVpcs");
  const deletes = calls.filter((c) => c.action === "DeleteVpc");
  expect(describes).toHaveLength(2);
  // the same call sent twice has the same digest: how a retried request shows in the log
  expect(describes[0].digest).toBe(describes[1].digest);
  expect(deletes).toHaveLength(1);
  expect(deletes[0].digest).not.toBe(describes[0].digest);
  const statusOf = (n: string): string | undefined =>
    lines.map((l) => new RegExp(`#${n} (\\d{3}) after \\d+\\.\\d\\d s$`).exec(l)?.[1]).find(Boolean);
  expect(statusOf(describes[0].n)).toBe("200");
  expect(statusOf(deletes[0].n)).toBe("400");
});

test("a retry of a call moto already answered gets that answer; a new call making the same group is refused, as on AWS", async () => {
  // Every AWS SDK marks a call's attempts: the same amz-sdk-invocation-id, amz-sdk-request attempt=N.
  const run = await python(`
import boto3
ec2 = boto3.client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
marks = {}
def mark(request, **kwargs):
    request.headers["amz-sdk-invocation-id"] = marks["invocation"]
    request.headers["amz-sdk-request"] = "attempt=%d; max=3" % marks["attempt"]
ec2.meta.events.register("before-send.ec2.CreateSecurityGroup", mark)
def create(invocation, attempt):
    marks.update(invocation=invocation, attempt=attempt)
    try:
        return ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    except ec2.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
first = create("11111111-1111-4111-8111-111111111111", 1)
print(create("11111111-1111-4111-8111-111111111111", 2) == first)
print(create("22222222-2222-4222-8222-222222222222", 1))
print(len(ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web"]}])["SecurityGroups"]))
`);
  expect(run).toEqual({ code: 0, out: "True\nInvalidGroup.Duplicate\n1" });
  const lines = await logLines((all) => /replayed the answer/.test(all));
  expect(lines.filter((l) => /action CreateSecurityGroup \[\w+\] attempt 2 of invocation 11111111-/.test(l))).toHaveLength(1);
  expect(lines.filter((l) => /replayed the answer moto gave attempt 1 of invocation 11111111-\S+ \(200\)/.test(l))).toHaveLength(1);
});

test("stop() ends the server and removes its folder", async () => {
  const { dir, endpoint } = emulator;
  await emulator.stop();
  expect(existsSync(dir)).toBe(false);
  const run = await python(`import boto3; boto3.client("sts", endpoint_url="${endpoint}").get_caller_identity()`);
  expect(run.code).not.toBe(0);
  expect(run.out).toMatch(/Could not connect to the endpoint URL/);
});
