import { Naming } from "../../constructs/naming";
import { testStack } from "../helpers";

test("names are <project>-<env>-<purpose>", () => {
  expect(new Naming("startupwebapp", "prod").name("rds", "alerts")).toBe("startupwebapp-prod-rds-alerts");
});

test("an environment named after its project is not prefixed twice", () => {
  expect(new Naming("safebucket", "safebucket-prod").name("redis")).toBe("safebucket-prod-redis");
  expect(new Naming("safebucket", "safebucketprod").name("redis")).toBe("safebucket-safebucketprod-redis");
});

test("titles capitalize the prefix", () => {
  expect(new Naming("startupwebapp", "prod").title("RDS")).toBe("Startupwebapp-prod-RDS");
});

test("constructs find the naming of their environment stack", () => {
  expect(Naming.of(testStack()).name("x")).toBe("acme-test-x");
});
