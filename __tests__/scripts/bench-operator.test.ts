/** The operator bench's arithmetic: medians, the deploy's critical path, the printed lines. */
import { deployCriticalPath, median, ratioLine } from "../../scripts/lib/bench-operator";

const GRAPH = [
  { id: "dev-state", after: [] },
  { id: "dev-network", after: ["dev-state"] },
  { id: "dev-data", after: ["dev-network", "dev-state"] },
  { id: "dev-access", after: ["dev-data", "dev-network", "dev-state"] },
  { id: "dev-observability", after: ["dev-data", "dev-network", "dev-state"] },
];

test("the critical path keeps the run's time outside stacks and takes the slower of access and observability", () => {
  const sequential = {
    seconds: 400,
    stacks: [
      { stack: "dev-state", seconds: 20 },
      { stack: "dev-network", seconds: 60 },
      { stack: "dev-data", seconds: 200 },
      { stack: "dev-access", seconds: 70 },
      { stack: "dev-observability", seconds: 30 },
    ],
  };
  // 400 - 380 in stacks = 20 s outside; chain 20 + 60 + 200 + 70
  expect(deployCriticalPath(GRAPH, sequential)).toBe(20 + 350);
});

test("the median of an even count is the mean of the middle two", () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});

test("each figure is printed as the issue asks: wall, base, ratio", () => {
  expect(ratioLine("plan", "dev", 26, "slowest stack", 20)).toBe("plan dev: 26.0 s, slowest stack 20.0 s, ratio 1.30");
});
