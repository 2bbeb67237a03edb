import { deployOrder } from "../../scripts/lib/synth";

test("stacks come after everything they depend on, ties in name order", () => {
  const order = deployOrder([
    { name: "b-network", dependencies: ["b-state"] },
    { name: "a-data", dependencies: ["a-network"] },
    { name: "a-network", dependencies: ["a-state"] },
    { name: "a-state", dependencies: [] },
    { name: "b-state", dependencies: [] },
  ]).map((s) => s.name);
  expect(order).toEqual(["a-state", "a-network", "a-data", "b-state", "b-network"]);
});

test("a dependency cycle is an error that shows the cycle", () => {
  expect(() =>
    deployOrder([
      { name: "x", dependencies: ["y"] },
      { name: "y", dependencies: ["x"] },
    ]),
  ).toThrow("stack dependency cycle: x -> y -> x");
});
