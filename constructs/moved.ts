import { TerraformResource } from "cdktf";
import type { Construct } from "constructs";
// cdktf's own logical-id function (the default HashedAddressingScheme): the old address must be
// computed exactly as cdktf computed it when the resource was created under its old construct path.
import { makeUniqueId } from "cdktf/lib/private/unique";

/**
 * Records that every resource under `construct` used to live under construct path `previousPath`
 * (ids from the stack down, e.g. `["tenants"]`), as Terraform `moved` blocks: a renamed construct then
 * keeps its resources in state instead of destroying and recreating them. Returns the moves, `from`
 * and `to` addresses, so tests can check them.
 */
export function movedFrom(construct: Construct, previousPath: readonly string[]): { from: string; to: string }[] {
  const base = construct.node.scopes.length;
  return construct.node
    .findAll()
    .filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c))
    .map((resource) => movedResourceFrom(resource, [...previousPath, ...resource.node.scopes.slice(base).map((c) => c.node.id)]));
}

/**
 * Records that `resource` used to be the resource at construct path `previousPath` (ids from the stack
 * down, the resource's own id last), as a Terraform `moved` block: for a resource that changed its
 * place in the tree on its own, such as one folded into a shared construct.
 */
export function movedResourceFrom(resource: TerraformResource, previousPath: readonly string[]): { from: string; to: string } {
  const from = `${resource.terraformResourceType}.${makeUniqueId([...previousPath])}`;
  resource.moveFromId(from);
  return { from, to: `${resource.terraformResourceType}.${resource.friendlyUniqueId}` };
}
