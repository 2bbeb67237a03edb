import { ContainerRegistry, imageReferenceProblem } from "../../constructs/container-registry";
import { decodePolicy, onlyResource, synth, testStack } from "../helpers";

function build(props: Partial<ConstructorParameters<typeof ContainerRegistry>[2]> = {}) {
  const stack = testStack(undefined, "web");
  const registry = new ContainerRegistry(stack, "registry", { repositoryName: "acme-test-backend", ...props });
  return { stack, registry };
}

describe("ContainerRegistry", () => {
  test("tags are immutable, pushes are scanned, and nothing is force-deleted by default", () => {
    expect(onlyResource(synth(build().stack), "aws_ecr_repository")).toMatchObject({
      name: "acme-test-backend",
      image_tag_mutability: "IMMUTABLE",
      image_scanning_configuration: { scan_on_push: true },
      force_delete: false,
    });
  });

  test("the lifecycle rule keeps the last 20 images unless told otherwise", () => {
    const rule = (json: ReturnType<typeof synth>) => decodePolicy(onlyResource(json, "aws_ecr_lifecycle_policy").policy).rules[0];
    expect(rule(synth(build().stack)).selection).toMatchObject({ countType: "imageCountMoreThan", countNumber: 20 });
    expect(rule(synth(build({ keepImages: 3 }).stack)).selection.countNumber).toBe(3);
    expect(() => build({ keepImages: 0 })).toThrow(/keepImages must be a whole number 1-1000/);
  });

  test("an image URI takes a tag after ':' and a digest after '@'", () => {
    const { registry } = build();
    expect(registry.imageUri("1.2.3")).toMatch(/:1\.2\.3$/);
    expect(registry.imageUri(`sha256:${"0".repeat(64)}`)).toMatch(/@sha256:0{64}$/);
  });

  test("only version tags and digests are production references", () => {
    for (const ok of ["1.4.2", "v1.4.2", "2024.06.01", "1.0.0-rc.1", `sha256:${"f".repeat(64)}`])
      expect(imageReferenceProblem(ok)).toBeUndefined();
    for (const bad of ["latest", "main", "dev", "sha256:abc"]) expect(imageReferenceProblem(bad)).toMatch(/must be a version tag/);
  });

  test("a repository name ECR refuses is rejected with the prop's name", () => {
    expect(() => build({ repositoryName: "Acme_Backend" })).toThrow(/repositoryName must be 2-256/);
  });
});
