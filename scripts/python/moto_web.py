"""StartupWebApp's web layer on moto 5.2.5: the CloudFront API its distribution uses that moto lacks.

moto's CloudFront serves distributions and origin access controls but has no response headers
policies: CreateResponseHeadersPolicy is answered 404, so the web layer's HSTS policy cannot be
created, read back or deleted. This keeps them in memory with the shape and ETag rules of AWS
(an update or delete must name the current ETag), so `npm run e2e` can deploy, plan and destroy
the layer. Nothing here changes what the project synthesizes for AWS.

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


def install() -> None:
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
