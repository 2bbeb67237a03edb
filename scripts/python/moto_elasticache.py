"""ElastiCache calls moto 5.2.5 does not implement, added for `npm run e2e` (scripts/python/moto_launcher.py).

SafeBucket's data layer creates a Redis parameter group and a user group; moto answers both with
NotImplementedError (HTTP 500), which the AWS SDK retries for minutes. This module serves them the way
AWS documents them, kept in memory next to moto's ElastiCache backend:

  parameter groups  CreateCacheParameterGroup, DescribeCacheParameterGroups, ModifyCacheParameterGroup,
                    ResetCacheParameterGroup, DescribeCacheParameters (the parameters set, Source "user"),
                    DeleteCacheParameterGroup
  user groups       CreateUserGroup, DescribeUserGroups, ModifyUserGroup, DeleteUserGroup (status "active"
                    at once: AWS takes a minute or two, with nothing to observe in between)
  subnet groups     DeleteCacheSubnetGroup (moto creates and describes them but cannot delete them, so a
                    destroy retries it until Terraform's timeout)
  member clusters   created with their replication group, with the group's security groups and encryption
                    settings (AWS reports a replication group's security groups, at-rest encryption and
                    transit encryption mode from its member clusters, and the provider reads them there)

and tags on both (ARNs `...:parametergroup:<name>` and `...:usergroup:<id>`). Only what the provider
reads is modelled; a parameter's metadata (data type, allowed values) is not.
"""

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticache.exceptions import ElastiCacheException
from moto.elasticache.models import ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse


# Errors are ElastiCacheException instances: moto finds the service's error shapes from the class's module.
def _NotFound(code: str, what: str) -> ElastiCacheException:  # noqa: N802
    return ElastiCacheException(code, f"{what} not found.")


def _AlreadyExists(code: str, what: str) -> ElastiCacheException:  # noqa: N802
    return ElastiCacheException(code, f"{what} already exists.")


def _store(backend: ElastiCacheBackend) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "_e2e_store"):
        backend._e2e_store = {"parameter_groups": {}, "user_groups": {}}  # type: ignore[attr-defined]
    return backend._e2e_store  # type: ignore[attr-defined,no-any-return]


def _arn(backend: ElastiCacheBackend, kind: str, name: str) -> str:
    return f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:{kind}:{name}"


def _parameter_group(self: ElastiCacheResponse, name: str) -> dict[str, Any]:
    group = _store(self.elasticache_backend)["parameter_groups"].get(name)
    if group is None:
        raise _NotFound("CacheParameterGroupNotFound", f"CacheParameterGroup {name}")
    return group


def _user_group(self: ElastiCacheResponse, group_id: str) -> dict[str, Any]:
    group = _store(self.elasticache_backend)["user_groups"].get(group_id)
    if group is None:
        raise _NotFound("UserGroupNotFound", f"User group {group_id}")
    return group


def _group_view(group: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if k != "Parameters"}


def create_cache_parameter_group(self: ElastiCacheResponse) -> ActionResult:
    backend = self.elasticache_backend
    name = self._get_param("CacheParameterGroupName")
    groups = _store(backend)["parameter_groups"]
    if name in groups:
        raise _AlreadyExists("CacheParameterGroupAlreadyExists", f"CacheParameterGroup {name}")
    arn = _arn(backend, "parametergroup", name)
    groups[name] = {
        "CacheParameterGroupName": name,
        "CacheParameterGroupFamily": self._get_param("CacheParameterGroupFamily"),
        "Description": self._get_param("Description"),
        "IsGlobal": False,
        "ARN": arn,
        "Parameters": {},
    }
    tags = self._get_param("Tags", [])
    if tags:
        backend.tagging_service.tag_resource(arn, tags)
    return ActionResult({"CacheParameterGroup": _group_view(groups[name])})


def describe_cache_parameter_groups(self: ElastiCacheResponse) -> ActionResult:
    name = self._get_param("CacheParameterGroupName")
    groups = [_parameter_group(self, name)] if name else list(_store(self.elasticache_backend)["parameter_groups"].values())
    return ActionResult({"CacheParameterGroups": [_group_view(g) for g in groups]})


def modify_cache_parameter_group(self: ElastiCacheResponse) -> ActionResult:
    name = self._get_param("CacheParameterGroupName")
    group = _parameter_group(self, name)
    for item in self._get_param("ParameterNameValues", []):
        group["Parameters"][item["ParameterName"]] = item.get("ParameterValue")
    return ActionResult({"CacheParameterGroupName": name})


def reset_cache_parameter_group(self: ElastiCacheResponse) -> ActionResult:
    name = self._get_param("CacheParameterGroupName")
    group = _parameter_group(self, name)
    if self._get_bool_param("ResetAllParameters"):
        group["Parameters"].clear()
    for item in self._get_param("ParameterNameValues", []):
        group["Parameters"].pop(item["ParameterName"], None)
    return ActionResult({"CacheParameterGroupName": name})


def describe_cache_parameters(self: ElastiCacheResponse) -> ActionResult:
    group = _parameter_group(self, self._get_param("CacheParameterGroupName"))
    source = self._get_param("Source")
    parameters = [
        {"ParameterName": k, "ParameterValue": v, "Source": "user", "DataType": "string", "IsModifiable": True}
        for k, v in sorted(group["Parameters"].items())
    ]
    # Only the parameters set here are modelled: they are the "user" ones; no engine defaults.
    if source and source != "user":
        parameters = []
    return ActionResult({"Parameters": parameters})


def delete_cache_parameter_group(self: ElastiCacheResponse) -> EmptyResult:
    name = self._get_param("CacheParameterGroupName")
    _parameter_group(self, name)
    del _store(self.elasticache_backend)["parameter_groups"][name]
    return EmptyResult()


def delete_cache_subnet_group(self: ElastiCacheResponse) -> EmptyResult:
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise _NotFound("CacheSubnetGroupNotFoundFault", f"CacheSubnetGroup {name}")
    in_use = [c for c in backend.cache_clusters.values() if getattr(c, "cache_subnet_group_name", None) == name]
    if in_use:
        raise ElastiCacheException("CacheSubnetGroupInUse", f"Cache subnet group {name} is currently in use by a cache cluster.")
    del backend.cache_subnet_groups[name]
    return EmptyResult()


def create_user_group(self: ElastiCacheResponse) -> ActionResult:
    backend = self.elasticache_backend
    group_id = self._get_param("UserGroupId")
    groups = _store(backend)["user_groups"]
    if group_id in groups:
        raise _AlreadyExists("UserGroupAlreadyExists", f"User group {group_id}")
    arn = _arn(backend, "usergroup", group_id)
    groups[group_id] = {
        "UserGroupId": group_id,
        "Status": "active",
        "Engine": self._get_param("Engine"),
        "UserIds": list(self._get_param("UserIds", [])),
        "MinimumEngineVersion": "6.0",
        "ReplicationGroups": [],
        "ARN": arn,
    }
    tags = self._get_param("Tags", [])
    if tags:
        backend.tagging_service.tag_resource(arn, tags)
    return ActionResult(groups[group_id])


def describe_user_groups(self: ElastiCacheResponse) -> ActionResult:
    group_id = self._get_param("UserGroupId")
    groups = [_user_group(self, group_id)] if group_id else list(_store(self.elasticache_backend)["user_groups"].values())
    return ActionResult({"UserGroups": groups})


def modify_user_group(self: ElastiCacheResponse) -> ActionResult:
    group = _user_group(self, self._get_param("UserGroupId"))
    for user in self._get_param("UserIdsToAdd", []):
        if user not in group["UserIds"]:
            group["UserIds"].append(user)
    for user in self._get_param("UserIdsToRemove", []):
        if user in group["UserIds"]:
            group["UserIds"].remove(user)
    return ActionResult(group)


def delete_user_group(self: ElastiCacheResponse) -> ActionResult:
    group_id = self._get_param("UserGroupId")
    group = _user_group(self, group_id)
    del _store(self.elasticache_backend)["user_groups"][group_id]
    return ActionResult({**group, "Status": "deleting"})


def _replication_group_members() -> None:
    """moto names a replication group's member clusters (`<group>-001`) without creating them, so the
    provider's read of the group fails; it makes one member where NumCacheClusters asks for more; and
    DeleteReplicationGroup leaves the group "deleting" forever. AWS creates NumCacheClusters members
    with the group and removes both when deleted."""
    original_create = ElastiCacheBackend.create_replication_group
    original_delete = ElastiCacheBackend.delete_replication_group

    def create_replication_group(self, **kwargs):  # type: ignore[no-untyped-def]
        # moto sizes a group without cluster mode from ReplicasPerNodeGroup alone and ignores
        # NumCacheClusters, so a primary with a replica came back as one node.
        clusters = kwargs.get("num_cache_clusters") or 1
        if clusters > 1 and not kwargs.get("replicas_per_node_group") and kwargs.get("cluster_mode") != "enabled":
            kwargs["replicas_per_node_group"] = clusters - 1
        group = original_create(self, **kwargs)
        for member in group.member_clusters:
            if member in self.cache_clusters:
                continue
            self.create_cache_cluster(
                cache_cluster_id=member,
                replication_group_id=kwargs["replication_group_id"],
                az_mode="single-az",
                preferred_availability_zone=None,
                num_cache_nodes=1,
                cache_node_type=kwargs.get("cache_node_type"),
                engine=kwargs.get("engine") or "redis",
                engine_version=kwargs.get("engine_version"),
                cache_parameter_group_name=kwargs.get("cache_parameter_group_name"),
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=kwargs.get("transit_encryption_enabled"),
                network_type=kwargs.get("network_type"),
                ip_discovery=kwargs.get("ip_discovery"),
                snapshot_name=None,
                preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=kwargs.get("port"),
                notification_topic_arn=None,
                auto_minor_version_upgrade=kwargs.get("auto_minor_version_upgrade"),
                snapshot_retention_limit=kwargs.get("snapshot_retention_limit"),
                snapshot_window=kwargs.get("snapshot_window"),
                auth_token=None,
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=[],
                cache_security_group_names=[],
                security_group_ids=kwargs.get("security_group_ids") or [],
                tags=[],
                snapshot_arns=[],
                preferred_outpost_arns=[],
                log_delivery_configurations=[],
                cache_node_ids_to_remove=[],
                cache_node_ids_to_reboot=[],
            )
            # The provider reads a group's encryption settings from its first member, as AWS reports them.
            cluster = self.cache_clusters[member]
            cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
            cluster.transit_encryption_mode = group.transit_encryption_mode
        return group

    def delete_replication_group(self, replication_group_id, retain_primary_cluster=None):  # type: ignore[no-untyped-def]
        members = list(self.replication_groups.get(replication_group_id).member_clusters) if replication_group_id in self.replication_groups else []
        group = original_delete(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for member in members:
            self.cache_clusters.pop(member, None)
        return group

    ElastiCacheBackend.create_replication_group = create_replication_group
    ElastiCacheBackend.delete_replication_group = delete_replication_group


def _cluster_security_groups() -> None:
    """moto keeps a cache cluster's SecurityGroupIds but never returns them; AWS describes them as
    SecurityGroups (id and status), which is where the provider reads a replication group's
    security_group_ids from."""
    from moto.elasticache.models import CacheCluster

    CacheCluster.security_groups = property(  # type: ignore[attr-defined]
        lambda self: [{"SecurityGroupId": g, "Status": "active"} for g in (self.security_group_ids or [])]
    )


def install() -> None:
    _replication_group_members()
    _cluster_security_groups()
    for handler in (
        create_cache_parameter_group,
        describe_cache_parameter_groups,
        modify_cache_parameter_group,
        reset_cache_parameter_group,
        describe_cache_parameters,
        delete_cache_parameter_group,
        create_user_group,
        describe_user_groups,
        modify_user_group,
        delete_user_group,
        delete_cache_subnet_group,
    ):
        setattr(ElastiCacheResponse, handler.__name__, handler)

    # Tags on the two new kinds of ARN.
    from re import compile as re_compile

    original_init = ElastiCacheBackend.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.arn_regex = re_compile(
            r"^arn:aws:elasticache:.*:[0-9]*:(cluster|snapshot|subnetgroup|replicationgroup|user|parametergroup|usergroup):.*$"
        )

    ElastiCacheBackend.__init__ = __init__
