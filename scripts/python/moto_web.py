"""StartupWebApp's web layer on moto 5.2.5: what its CloudFront and ECS lack or answer unlike AWS.

1. Response headers policies: moto's CloudFront has none (CreateResponseHeadersPolicy is answered
   404), so the layer's HSTS policy could not be created. They are kept in memory here with the
   shape and ETag rules of AWS (an update or delete must name the current ETag).
2. A distribution read back as AWS returns it, or every plan after the deploy shows changes:
   an origin keeps its OriginAccessControlId (moto drops it); a cache behaviour with a cache policy
   has no ForwardedValues (moto invents empty ones); a viewer certificate from ACM is not also
   CloudFrontDefaultCertificate (moto says true).
3. ECS services keep enableExecuteCommand (moto drops it on create and update).

Nothing here changes what the project synthesizes for AWS.

Hook (scripts/python/moto_launcher.py, next to moto_elasticache.install()):
    import moto_web; moto_web.install()
"""

import datetime
import uuid
from typing import Any

from moto.cloudfront import urls as cloudfront_urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.responses import ActionResult, EmptyResult

# (account, policy id) -> {"Id", "ETag", "LastModifiedTime", "Config"}
_POLICIES: dict[tuple[str, str], dict[str, Any]] = {}


# moto finds an error's HTTP status in the service model of the package the exception class says it is from.
class _NoSuchPolicy(CloudFrontException):
    def __init__(self) -> None:
        super().__init__("NoSuchResponseHeadersPolicy", "The response headers policy does not exist.")


class _AlreadyExists(CloudFrontException):
    def __init__(self, name: str) -> None:
        super().__init__("ResponseHeadersPolicyAlreadyExists", f"A response headers policy named {name} already exists.")


class _PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__("PreconditionFailed", "The If-Match version is missing or not valid.")


for _error in (_NoSuchPolicy, _AlreadyExists, _PreconditionFailed):
    _error.__module__ = "moto.cloudfront.exceptions"


def _result(policy: dict[str, Any]) -> ActionResult:
    return ActionResult(
        {
            "ResponseHeadersPolicy": {
                "Id": policy["Id"],
                "LastModifiedTime": policy["LastModifiedTime"],
                "ResponseHeadersPolicyConfig": policy["Config"],
            },
            "ETag": policy["ETag"],
        }
    )


def _policy(self: CloudFrontResponse) -> dict[str, Any]:
    policy = _POLICIES.get((self.current_account, self._get_param("Id")))
    if policy is None:
        raise _NoSuchPolicy()
    return policy


def _check_etag(self: CloudFrontResponse, policy: dict[str, Any]) -> None:
    if self._get_param("IfMatch") != policy["ETag"]:
        raise _PreconditionFailed()


def create_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    config = self._get_param("ResponseHeadersPolicyConfig", {})
    if any(k[0] == self.current_account and p["Config"].get("Name") == config.get("Name") for k, p in _POLICIES.items()):
        raise _AlreadyExists(str(config.get("Name")))
    policy = {
        "Id": str(uuid.uuid4()),
        "ETag": uuid.uuid4().hex[:14].upper(),
        "LastModifiedTime": datetime.datetime.now(datetime.timezone.utc),
        "Config": config,
    }
    _POLICIES[(self.current_account, policy["Id"])] = policy
    return _result(policy)


def get_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    return _result(_policy(self))


def get_response_headers_policy_config(self: CloudFrontResponse) -> ActionResult:
    policy = _policy(self)
    return ActionResult({"ResponseHeadersPolicyConfig": policy["Config"], "ETag": policy["ETag"]})


def update_response_headers_policy(self: CloudFrontResponse) -> ActionResult:
    policy = _policy(self)
    _check_etag(self, policy)
    policy["Config"] = self._get_param("ResponseHeadersPolicyConfig", {})
    policy["ETag"] = uuid.uuid4().hex[:14].upper()
    policy["LastModifiedTime"] = datetime.datetime.now(datetime.timezone.utc)
    return _result(policy)


def delete_response_headers_policy(self: CloudFrontResponse) -> EmptyResult:
    policy = _policy(self)
    _check_etag(self, policy)
    del _POLICIES[(self.current_account, policy["Id"])]
    return EmptyResult()


def list_response_headers_policies(self: CloudFrontResponse) -> ActionResult:
    items = [
        {"Type": "custom", "ResponseHeadersPolicy": {"Id": p["Id"], "LastModifiedTime": p["LastModifiedTime"], "ResponseHeadersPolicyConfig": p["Config"]}}
        for (account, _), p in _POLICIES.items()
        if account == self.current_account
    ]
    return ActionResult({"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": len(items), "Items": items}})


def _distribution_read_back() -> None:
    from moto.cloudfront import models

    origin_init = models.Origin.__init__

    def origin(self, origin, *args, **kwargs):  # type: ignore[no-untyped-def]
        origin_init(self, origin, *args, **kwargs)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""

    models.Origin.__init__ = origin

    for cls in (models.DefaultCacheBehaviour, models.CacheBehaviour):
        behaviour_init = cls.__init__

        def behaviour(self, config, *args, _init=behaviour_init, **kwargs):  # type: ignore[no-untyped-def]
            _init(self, config, *args, **kwargs)
            if config.get("CachePolicyId"):
                self.forwarded_values = None

        cls.__init__ = behaviour

    certificate_init = models.ViewerCertificate.__init__

    def certificate(self, config, *args, **kwargs):  # type: ignore[no-untyped-def]
        certificate_init(self, config, *args, **kwargs)
        if config.get("ACMCertificateArn") or config.get("IAMCertificateId"):
            self.cloud_front_default_certificate = False
            self.certificate_source = "acm" if config.get("ACMCertificateArn") else "iam"

    models.ViewerCertificate.__init__ = certificate


def _ecs_execute_command() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    for name in ("create_service", "update_service"):
        handler = getattr(EC2ContainerServiceResponse, name)

        def wrapped(self, _handler=handler):  # type: ignore[no-untyped-def]
            result = _handler(self)
            requested = self._get_param("enableExecuteCommand")
            service = result.result["service"]
            if requested is not None or not hasattr(service, "enable_execute_command"):
                service.enable_execute_command = bool(requested)
            return result

        setattr(EC2ContainerServiceResponse, name, wrapped)


def install() -> None:
    _distribution_read_back()
    _ecs_execute_command()
    # moto's server builds its URL map from this dict when it starts: routes must be in before that.
    base = "{0}/2020-05-31/response-headers-policy"
    cloudfront_urls.url_paths[base + "$"] = CloudFrontResponse.dispatch
    cloudfront_urls.url_paths[base + "/(?P<Id>[^/]+)$"] = CloudFrontResponse.dispatch
    cloudfront_urls.url_paths[base + "/(?P<Id>[^/]+)/config$"] = CloudFrontResponse.dispatch
    for handler in (
        create_response_headers_policy,
        get_response_headers_policy,
        get_response_headers_policy_config,
        update_response_headers_policy,
        delete_response_headers_policy,
        list_response_headers_policies,
    ):
        setattr(CloudFrontResponse, handler.__name__, handler)
