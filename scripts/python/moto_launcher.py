"""The AWS emulator of `npm run e2e`: moto's server over TLS on a free loopback port.

Started by scripts/lib/moto.ts with the project's venv interpreter. It
  1. writes a throwaway CA and a server certificate for 127.0.0.1/localhost into --dir
     (ca.pem is the bundle clients trust through AWS_CA_BUNDLE),
  2. patches moto where it differs from AWS in ways our stacks meet (each patch says which AWS
     behaviour it restores; README, local cloud, lists them),
  3. binds 127.0.0.1:0, prints one line `READY <port>` on stdout and serves until its stdin closes
     or it receives SIGTERM/SIGINT, so it never outlives the process that started it.

Nothing here changes what the project synthesizes for AWS.
"""

import argparse
import datetime
import ipaddress
import json
import os
import signal
import sys
import threading

# Read when moto's IAM backend is created: AWS accounts have the AWS managed policies
# (AmazonSSMManagedInstanceCore, AmazonRDSEnhancedMonitoringRole, ...); moto only with this.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
# moto issues a DNS-validated ACM certificate once it is 60 s old, an arbitrary figure of its own (AWS
# issues when the validation record resolves, with no fixed delay). A few seconds keeps every web layer's
# certificate validation from idling a minute; the provider still waits for ISSUED as against AWS.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "3")


def write_certificates(directory: str) -> tuple[str, str, str]:
    """A CA valid for one day and a server certificate it signed, for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "infra e2e throwaway CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = tuple(os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server-key.pem"))
    pem = serialization.Encoding.PEM
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(pem))
    fd = os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    return paths  # type: ignore[return-value]


# ------------------------------------------------------------------ patches: AWS behaviour restored

# The request context every call has here: the server only speaks TLS.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _condition_holds(operator: str, values: dict) -> bool:
    """AWS's reading of one condition operator against REQUEST_CONTEXT. A key the context does not
    have makes the condition false (AWS: no value, no match, except ...IfExists)."""
    base = operator.removesuffix("IfExists")
    for key, expected in values.items():
        actual = REQUEST_CONTEXT.get(key.lower())
        if actual is None:
            if operator.endswith("IfExists"):
                continue
            return base == "Null" and str(expected).lower() == "true"
        wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
        if base == "Bool":
            ok = actual.lower() in [w.lower() for w in wanted]
        elif base == "StringEquals":
            ok = actual in wanted
        elif base == "StringNotEquals":
            ok = actual not in wanted
        elif base == "Null":
            ok = all(w.lower() == "false" for w in wanted)
        else:
            ok = False  # an operator not modelled here never matches: the statement does not apply
        if not ok:
            return False
    return True


def applicable_statements(policy: dict) -> dict:
    """The policy with only the statements whose conditions hold for this request, conditions
    removed: what moto's evaluator (which applies every condition it cannot evaluate) gets."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        conditions = statement.get("Condition") or {}
        if all(_condition_holds(op, values) for op, values in conditions.items()):
            kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return {**policy, "Statement": kept}


def patch_bucket_policy_conditions() -> None:
    """moto applies a Deny statement even when it cannot evaluate its condition, so a TLS-only
    bucket policy (Deny when aws:SecureTransport is false) blocks every request. AWS evaluates the
    condition: over TLS the statement does not apply."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):  # type: ignore[no-untyped-def]
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = applicable_statements(json.loads(self.policy.decode()))
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def patch_adjacent_rds_windows() -> None:
    """moto rejects an RDS backup window that ends when the maintenance window starts (03:00-04:00
    with sun:04:00-sun:05:00): it counts touching ranges as overlapping. AWS accepts them."""
    import moto.rds.utils as rds_utils

    original = rds_utils.get_overlap_between_two_date_ranges

    def overlap(start_1, end_1, start_2, end_2):  # type: ignore[no-untyped-def]
        seconds = original(start_1, end_1, start_2, end_2)
        return -1 if seconds == 0 else seconds

    rds_utils.get_overlap_between_two_date_ranges = overlap


def patch_root_volume_size() -> None:
    """moto needs a size for every block device; AWS sizes a root volume without one from the AMI's
    snapshot. moto's own images carry no snapshot size, so the size of its default root volume
    (8 GiB, the Amazon Linux AMI's) stands in."""
    from moto.ec2.models.instances import Instance
    from moto.ec2.responses.instances import InstanceResponse

    validate = InstanceResponse._validate_block_device_mapping

    def validate_mapping(device_mapping):  # type: ignore[no-untyped-def]
        ebs = device_mapping.get("Ebs")
        if isinstance(ebs, dict) and not ebs.get("VolumeSize") and not ebs.get("SnapshotId"):
            return  # sized from the image below, as AWS does
        validate(device_mapping)

    InstanceResponse._validate_block_device_mapping = staticmethod(validate_mapping)
    original = Instance.add_block_device

    def add_block_device(self, size, device_path, snapshot_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        if size is None and snapshot_id is None:
            size = 8
        return original(self, size, device_path, snapshot_id, *args, **kwargs)

    Instance.add_block_device = add_block_device


def patch_group_rule_descriptions() -> None:
    """moto keeps the description of a rule that references another security group (not a CIDR) but
    does not return it from DescribeSecurityGroupRules. AWS returns every rule's description."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    SecurityGroupRule.description = property(  # type: ignore[assignment]
        lambda self: self.ip_range.get("Description") or self.source_group.get("Description")
    )


def patch_performance_insights() -> None:
    """moto ignores Performance Insights: an instance created or modified with it enabled reads back
    disabled with no retention. AWS returns what was set (retention 7 days when enabled without one)."""
    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.enable_performance_insights = bool(kwargs.get("enable_performance_insights", False))
        retention = kwargs.get("performance_insights_retention_period")
        self.performance_insights_retention_period = retention or (7 if self.enable_performance_insights else None)
        self.performance_insights_kms_key_id = kwargs.get("performance_insights_kms_key_id")

    DBInstance.__init__ = __init__
    DBInstance.performance_insights_enabled = property(lambda self: getattr(self, "enable_performance_insights", False))


def patch_parameter_sources() -> None:
    """moto stores the parameters a DB parameter group sets but without their Source; Terraform's
    provider keeps only those whose Source is "user", so every set parameter read back as missing.
    AWS marks a parameter set through ModifyDBParameterGroup with Source "user"."""
    from moto.rds.models import DBParameterGroup

    original = DBParameterGroup.update_parameters

    def update_parameters(self, new_parameters):  # type: ignore[no-untyped-def]
        new_parameters = list(new_parameters)
        original(self, new_parameters)
        for parameter in new_parameters:
            self.parameters[parameter["ParameterName"]]["Source"] = "user"

    DBParameterGroup.update_parameters = update_parameters


def patch_instance_attribute_groups() -> None:
    """Two ways moto loses an instance's security groups that AWS does not: a ModifyInstanceAttribute
    call for an attribute it does not list is taken as "security groups: none" (AWS changes only the
    attribute named); and groups given on a network interface specification stay on the interface."""
    from moto.ec2.responses.instances import InstanceResponse
    from moto.core.utils import camelcase_to_underscores

    original = InstanceResponse._security_grp_instance_attribute_handler

    def handler(self):  # type: ignore[no-untyped-def]
        if self._get_param("Groups"):
            return original(self)
        self.error_on_dryrun()
        for key, value in self.querystring.items():
            if key.endswith(".Value") and key.count(".") == 1:
                attribute = camelcase_to_underscores(key.split(".")[0])
                self.ec2_backend.modify_instance_attribute(self._get_param("InstanceId"), attribute, value[0])
        return True

    InstanceResponse._security_grp_instance_attribute_handler = handler

    # An instance launched with a network interface specification (the provider uses one for
    # associate_public_ip_address) keeps its groups on that interface only; AWS reports the primary
    # interface's groups as the instance's too.
    from moto.ec2.models.instances import InstanceBackend

    original_run = InstanceBackend.run_instances

    def run_instances(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        reservation = original_run(self, *args, **kwargs)
        for instance in reservation.instances:
            primary = instance.nics.get(0)
            if not instance.security_groups and primary is not None:
                instance.security_groups = list(primary._group_set)
        return reservation

    InstanceBackend.run_instances = run_instances


def patch_sqs_redrive_allow_policy() -> None:
    """moto accepts a queue's RedriveAllowPolicy but never returns it, so the provider waits for it
    for minutes; any SetQueueAttributes without Policy erases the queue's policy; and it returns a
    RedrivePolicy with spaces after its separators. AWS returns every attribute set, changes only
    the attributes named, and returns JSON attributes compact."""
    from moto.sqs.models import Queue

    original_set = Queue._set_attributes

    def _set_attributes(self, attributes, now=None):  # type: ignore[no-untyped-def]
        policy = getattr(self, "policy", None)
        original_set(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = policy

    original_attributes = Queue.attributes.fget

    def attributes(self):  # type: ignore[no-untyped-def]
        result = original_attributes(self)
        if not result.get("RedriveAllowPolicy"):
            result.pop("RedriveAllowPolicy", None)
        # AWS returns the redrive policy as compact JSON; moto's spaced form reads as a change on every plan.
        if isinstance(result.get("RedrivePolicy"), str):
            result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
        return result

    # A known attribute name (GetQueueAttributes validates names against this list), unset by default.
    Queue.BASE_ATTRIBUTES.append("RedriveAllowPolicy")
    Queue.redrive_allow_policy = None
    Queue._set_attributes = _set_attributes
    Queue.attributes = property(attributes)


def patch_unique_dbi_resource_ids() -> None:
    """moto gives every RDS instance the same DbiResourceId; the provider finds an instance by it, so
    with two instances in the account neither is found and applies wait until they time out. AWS
    gives each instance its own."""
    import random
    import string

    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + "".join(random.choices(string.ascii_uppercase + string.digits, k=26))

    DBInstance.__init__ = __init__


def patch_default_rds_ca() -> None:
    """moto gives an RDS instance created without a CA the identifier "rds-ca-default", which names no
    CA; the provider then sees the CA it was told to set as different, and modifies the instance and
    waits for it again (about 80 s). AWS gives new instances rds-ca-rsa2048-g1 by default."""
    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if self.ca_certificate_identifier in (None, "rds-ca-default"):
            self.ca_certificate_identifier = "rds-ca-rsa2048-g1"

    DBInstance.__init__ = __init__


def patch_autoscaling_tags() -> None:
    """moto's Application Auto Scaling has no ListTagsForResource, TagResource or UntagResource
    (HTTP 500, which the SDK retries for minutes); the provider reads a scalable target's tags after
    creating it. AWS keeps the tags given at registration and by TagResource."""
    import json as _json

    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    tags: dict[str, dict[str, str]] = {}
    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self):  # type: ignore[no-untyped-def]
        body = original_register(self)
        arn = _json.loads(body)["ScalableTargetARN"]
        tags.setdefault(arn, {}).update(self._get_param("Tags") or {})
        return body

    def list_tags_for_resource(self):  # type: ignore[no-untyped-def]
        return _json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):  # type: ignore[no-untyped-def]
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):  # type: ignore[no-untyped-def]
        for key in self._get_param("TagKeys") or []:
            tags.get(self._get_param("ResourceARN"), {}).pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


def patch_ecs_service_settings() -> None:
    """moto's CreateService drops settings it is given (UpdateService keeps them): the capacity provider
    strategy (every plan would replace the service), AZ rebalancing, ECS managed tags and the health
    check grace period (every plan would update it). AWS returns them as created."""
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse

    dropped = ("capacityProviderStrategy", "availabilityZoneRebalancing", "enableECSManagedTags", "healthCheckGracePeriodSeconds")
    original = EC2ContainerServiceResponse.create_service

    def create_service(self):  # type: ignore[no-untyped-def]
        result = original(self)
        service = result.result["service"]
        for name in dropped:
            value = self._get_param(name)
            if value is not None:
                setattr(service, camelcase_to_underscores(name), value)
        return result

    EC2ContainerServiceResponse.create_service = create_service


def patch_deleted_secret_reads() -> None:
    """GetSecretValue of a secret scheduled for deletion: AWS says "...because it was marked for deletion",
    which the provider takes as "the version is gone" (so a plan writes it again into the secret that
    replaced it); moto's "...currently marked deleted" fails the refresh instead."""
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.get_secret_value

    def get_secret_value(self, secret_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        if secret is not None and secret.is_deleted():
            raise InvalidRequestException("You can't perform this operation on the secret because it was marked for deletion.")
        return original(self, secret_id, *args, **kwargs)

    SecretsManagerBackend.get_secret_value = get_secret_value


def apply_patches() -> None:
    patch_bucket_policy_conditions()
    patch_adjacent_rds_windows()
    patch_root_volume_size()
    patch_group_rule_descriptions()
    patch_performance_insights()
    patch_parameter_sources()
    patch_instance_attribute_groups()
    patch_sqs_redrive_allow_policy()
    patch_unique_dbi_resource_ids()
    patch_default_rds_ca()
    patch_autoscaling_tags()
    patch_ecs_service_settings()
    patch_sesv2_sending_options()
    patch_sesv2_easy_dkim_tokens()
    patch_sesv2_identity_tags()
    patch_ses_delete_event_destination()
    patch_iam_service_specific_credentials()
    patch_deleted_secret_reads()
    # ElastiCache parameter groups and user groups, which moto lacks (SafeBucket's Redis).
    import moto_elasticache

    moto_elasticache.install()
    # CloudFront response headers policies and read-backs, ECS Exec on services (StartupWebApp's web layer).
    import moto_web

    moto_web.install()


# ------------------------------------------------------------------ server

def one_at_a_time(app, lock=None):  # type: ignore[no-untyped-def]
    """WSGI middleware: moto's backends handle one request at a time, as AWS's APIs behave (each call
    atomic). moto documents its models as unsafe for concurrent use, yet its werkzeug server runs each
    connection in its own thread, and four environments deploying side by side send it many calls at
    once. The response body is built inside the lock; sending it (TLS, the socket) happens outside.
    A handler that blocks (SQS long polling, Lambda, Batch) would hold the lock: no call of ours does."""
    lock = lock or threading.Lock()

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]

    return wrapped


def attempt_of(environ) -> tuple[str | None, int]:  # type: ignore[no-untyped-def]
    """The SDK's invocation id of a call (the same on every attempt of one call) and this attempt's
    number, from the headers every AWS SDK sends (`amz-sdk-invocation-id`, `amz-sdk-request: attempt=N; max=M`)."""
    invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
    attempt = 1
    for part in environ.get("HTTP_AMZ_SDK_REQUEST", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            attempt = int(value)
    return invocation, attempt


def answer_retries_once(app, kept: int = 20_000):  # type: ignore[no-untyped-def]
    """WSGI middleware: a retry of a call moto already answered gets that answer again instead of the
    call being made twice. Under the e2e's load the SDK sometimes never reads an answer moto sent (moto
    logs it; the client resends the same call, same invocation id, next attempt number), and a create
    made twice fails (InvalidGroup.Duplicate, InvalidPermission.Duplicate) where AWS, whose answer
    arrives, made it once. Only successful answers are kept: a retry after an error (a throttle, a server
    error) is a new try, as on AWS. Runs inside one_at_a_time, so an answer is kept before the next call starts."""
    import collections

    answers: "collections.OrderedDict[str, tuple[str, list, bytes]]" = collections.OrderedDict()

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        invocation, attempt = attempt_of(environ)
        if invocation and attempt > 1 and invocation in answers:
            status, headers, body = answers[invocation]
            sys.stderr.write(f"replayed the answer moto gave attempt 1 of invocation {invocation} ({status.split()[0]})\n")
            start_response(status, headers)
            return [body]
        seen: dict = {}

        def keep(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            seen.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        result = app(environ, keep)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if invocation and seen and int(seen["status"].split()[0]) < 400:
            answers[invocation] = (seen["status"], seen["headers"], body)
            while len(answers) > kept:
                answers.popitem(last=False)
        return [body]

    return wrapped


def log_actions(app):  # type: ignore[no-untyped-def]
    """WSGI middleware: two stderr lines per query-protocol or JSON call, one when it arrives naming its
    Action (werkzeug's own line shows only `POST /`), a short digest of its body and, for Modify calls,
    the names of the parameters given, and the attempt number when the SDK sends a call again; one when
    its answer is ready, with the status. So the request log says what a slow or failing run was doing."""
    import hashlib
    import io
    import itertools
    import time
    import urllib.parse

    numbers = itertools.count(1)

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        action = None
        # Only a body of announced length is read here (a chunked one is left to moto as it came).
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("CONTENT_LENGTH"):
            length = int(environ["CONTENT_LENGTH"])
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            digest = hashlib.sha256(body).hexdigest()[:10]
            if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
                params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                action = params.get("Action", ["?"])[0]
                # A Modify call's parameter names (never values) say why a create was followed by a change.
                if action.startswith("Modify"):
                    action += f" ({', '.join(sorted(k for k in params if k not in ('Action', 'Version')))})"
            elif environ.get("HTTP_X_AMZ_TARGET"):
                action = environ["HTTP_X_AMZ_TARGET"]
        if action is None:
            return app(environ, start_response)
        number = next(numbers)
        started = time.monotonic()
        invocation, attempt = attempt_of(environ)
        again = f" attempt {attempt} of invocation {invocation}" if attempt > 1 else ""
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} #{number} action {action} [{digest}]{again}\n")

        def answered(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            sys.stderr.write(f"{time.strftime('%H:%M:%S')} #{number} {status.split()[0]} after {time.monotonic() - started:.2f} s\n")
            return start_response(status, headers, exc_info)

        return app(environ, answered)

    return wrapped


def patch_sesv2_sending_options() -> None:
    """moto nests SendingOptions of a v2 configuration set ({"SendingEnabled": {"SendingEnabled": true}},
    or {"SendingEnabled": {}} when none were given), which the SDK cannot decode, and returns option
    groups never set as empty objects. AWS returns the options as set, SendingEnabled true by
    default, and omits the groups never set."""
    from moto.ses.models import ConfigurationSet

    original = ConfigurationSet.to_dict_v2

    def to_dict_v2(self):  # type: ignore[no-untyped-def]
        out = original(self)
        given = self.enabled if isinstance(self.enabled, dict) else {}
        out["SendingOptions"] = {"SendingEnabled": given.get("SendingEnabled", True)}
        # AWS leaves out the option groups that were never set; moto returns them empty, which the
        # provider reads as blocks the configuration does not have (an update on every plan).
        return {k: v for k, v in out.items() if v != {}}

    ConfigurationSet.to_dict_v2 = to_dict_v2


def patch_sesv2_identity_tags() -> None:
    """moto keeps the tags a v2 email identity is created with on the identity but ListTagsForResource
    does not find them (an update on every plan); AWS lists them."""
    from moto.sesv2.models import SESV2Backend

    original = SESV2Backend.list_tags_for_resource

    def list_tags_for_resource(self, resource_arn):  # type: ignore[no-untyped-def]
        tags = original(self, resource_arn)
        _, _, name = resource_arn.partition(":identity/")
        identity = self.core_backend.email_identities.get(name) if name else None
        if not tags and identity is not None:
            tags = list(getattr(identity, "tags", None) or [])
        return tags

    SESV2Backend.list_tags_for_resource = list_tags_for_resource


def patch_sesv2_easy_dkim_tokens() -> None:
    """moto gives a domain identity created without BYODKIM no DKIM tokens; AWS (Easy DKIM) gives three,
    which become the identity's three CNAME records, with signing enabled and verification pending."""
    import secrets
    import string

    from moto.ses.models import EmailIdentity

    original = EmailIdentity.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if self.identity_type == "DOMAIN" and not isinstance(self.dkim_signing_attributes, dict):
            alphabet = string.ascii_lowercase + string.digits
            self.dkim_attributes.update(
                SigningEnabled=True,
                Status="PENDING",
                Tokens=["".join(secrets.choice(alphabet) for _ in range(32)) for _ in range(3)],
            )

    EmailIdentity.__init__ = init


def patch_ses_delete_event_destination() -> None:
    """moto has no DeleteConfigurationSetEventDestination, which destroying an aws_ses_event_destination calls
    (and retries on moto's 500 until it times out). AWS removes the destination."""
    from moto.core.responses import EmptyResult
    from moto.ses.responses import EmailResponse

    def delete_configuration_set_event_destination(self):  # type: ignore[no-untyped-def]
        set_name = self._get_param("ConfigurationSetName")
        name = self._get_param("EventDestinationName")
        destination = self.backend.config_set_event_destination.get(set_name)
        if destination and destination.get("Name") == name:
            del self.backend.config_set_event_destination[set_name]
        self.backend.event_destinations.pop(name, None)
        return EmptyResult()

    EmailResponse.delete_configuration_set_event_destination = delete_configuration_set_event_destination


def patch_iam_service_specific_credentials() -> None:
    """moto has no ListServiceSpecificCredentials, which destroying an IAM user with force_destroy calls
    (retried on moto's 500 until it times out). A user here never has any: AWS answers an empty list."""
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    def list_service_specific_credentials(self):  # type: ignore[no-untyped-def]
        return ActionResult({"ServiceSpecificCredentials": []})

    IamResponse.list_service_specific_credentials = list_service_specific_credentials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where the throwaway certificate and key are written")
    args = parser.parse_args()

    ca, cert, key = write_certificates(args.dir)
    apply_patches()

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    class Handler(MotoRequestHandler):
        def connection_dropped(self, error, environ=None):  # type: ignore[no-untyped-def]
            # werkzeug ignores a connection that broke mid-request; a client that never read its
            # answer retries the call, so the request log says when it happened.
            sys.stderr.write(f"connection dropped: {error!r}\n")

    app = log_actions(one_at_a_time(answer_retries_once(DomainDispatcherApplication(create_backend_app))))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key), request_handler=Handler)
    port = server.server_port
    # moto builds some URLs (SQS queue URLs) from this.
    os.environ["MOTO_PORT"] = str(port)

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_parent() -> None:
        # The parent holds our stdin open; EOF means it is gone, whatever way it ended.
        sys.stdin.read()
        stop()

    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"READY {port} {ca}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
