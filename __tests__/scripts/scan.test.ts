import {
  addressOf,
  classify,
  forCheckov,
  formatReport,
  indexStack,
  parseActionlintOutput,
  parseCheckovOutput,
  parseZizmorOutput,
  stackOfPath,
  totals,
  type CheckovRecord,
  type StackIndex,
  type WorkflowScan,
} from "../../scripts/lib/scan";

// Recorded shapes of checkov 3.3.30 (`-o json`, terraform_json runner), zizmor 1.32.0 (`--format json`)
// and actionlint 1.17.0 (`-format '{{json .}}'`), cut down to the fields scan reads.

const record = (stack: string, check: string, resource: string): CheckovRecord => ({
  check_id: check,
  check_name: `name of ${check}`,
  resource,
  file_path: `/${stack}/cdk.tf.json`,
});

const report = (results: { passed?: CheckovRecord[]; failed?: CheckovRecord[]; parsing_errors?: string[] }) => ({
  check_type: "terraform_json",
  results: {
    passed_checks: results.passed ?? [],
    failed_checks: results.failed ?? [],
    skipped_checks: [],
    parsing_errors: results.parsing_errors ?? [],
  },
  summary: { passed: results.passed?.length ?? 0, failed: results.failed?.length ?? 0, skipped: 0, parsing_errors: 0 },
});

/** A synthesized stack: one bucket whose `//` metadata holds a guardrail suppression and a checkov skip. */
const stackJson = {
  resource: {
    aws_s3_bucket: {
      "state-bucket_828F7150": {
        "//": {
          metadata: { path: "dev-state/state-bucket" },
          guardrails: {
            suppressed: [
              { rule: "s3-tls-only", reason: "a guardrail suppression, not a scanner skip" },
              { rule: "CKV_AWS_144", scanner: "checkov", reason: "one region by design" },
            ],
          },
        },
        bucket: "acme-dev-tfstate",
      },
    },
    aws_s3_bucket_versioning: { "state-bucket_versioning_1": { bucket: "${aws_s3_bucket.state-bucket_828F7150.id}" } },
  },
  moved: [{ from: "aws_kms_key.a", to: "aws_kms_key.b" }],
};

const BUCKET = "aws_s3_bucket.state-bucket_828F7150";

describe("parseCheckovOutput", () => {
  test("reads one runner's report", () => {
    const results = parseCheckovOutput(JSON.stringify(report({ passed: [record("dev-state", "CKV_AWS_19", BUCKET)] })));
    expect(results.passed.map((r) => r.check_id)).toEqual(["CKV_AWS_19"]);
    expect(results.failed).toEqual([]);
  });

  test("reads a list of reports (several runners) as one", () => {
    const text = JSON.stringify([
      report({ failed: [record("a", "CKV_AWS_1", "x.y")] }),
      report({ failed: [record("b", "CKV_AWS_2", "x.z")] }),
    ]);
    expect(parseCheckovOutput(text).failed.map((r) => r.check_id)).toEqual(["CKV_AWS_1", "CKV_AWS_2"]);
  });

  test("reads the bare summary checkov prints when it found no file as no results", () => {
    const text = JSON.stringify({ passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resource_count: 0, checkov_version: "3.3.30" });
    expect(parseCheckovOutput(text)).toEqual({ passed: [], failed: [], skipped: [], parsingErrors: [] });
  });

  test("keeps the files checkov could not parse", () => {
    const text = JSON.stringify(report({ parsing_errors: ["/tmp/x/safebucket-dev-database/cdk.tf.json"] }));
    expect(parseCheckovOutput(text).parsingErrors).toEqual(["/tmp/x/safebucket-dev-database/cdk.tf.json"]);
  });

  test("refuses output that is not JSON, quoting it", () => {
    expect(() => parseCheckovOutput("Traceback (most recent call last):\n  ...")).toThrow(/no JSON report: Traceback/);
  });

  test("refuses JSON that is not a report", () => {
    expect(() => parseCheckovOutput('{"error": "usage"}')).toThrow(/not a report/);
  });
});

describe("indexStack", () => {
  test("reads the checkov skips and leaves the guardrail suppressions out", () => {
    expect(indexStack(stackJson).skips).toEqual([{ address: BUCKET, check: "CKV_AWS_144", reason: "one region by design" }]);
  });

  test("knows the type of every logical id", () => {
    expect(indexStack(stackJson).typeOf.get("state-bucket_versioning_1")).toBe("aws_s3_bucket_versioning");
  });

  test("reads a stack without resources as empty", () => {
    expect(indexStack({ terraform: {} }).skips).toEqual([]);
  });
});

describe("addressOf", () => {
  const index = indexStack(stackJson);

  test("gives a resource check's `resource.<id>` its type back", () => {
    expect(addressOf("resource.state-bucket_828F7150", index)).toBe(BUCKET);
  });

  test("keeps a graph check's full address", () => {
    expect(addressOf(BUCKET, index)).toBe(BUCKET);
  });

  test("keeps an id it does not know as checkov wrote it", () => {
    expect(addressOf("resource.unknown", index)).toBe("resource.unknown");
  });
});

test("stackOfPath takes the stack folder of a report path or an absolute one", () => {
  expect(stackOfPath("/dev-data/cdk.tf.json")).toBe("dev-data");
  expect(stackOfPath("/tmp/infra-scan-1/checkov/prod-state/cdk.tf.json")).toBe("prod-state");
});

describe("classify", () => {
  const stacks = new Map<string, StackIndex>([
    ["dev-state", indexStack(stackJson)],
    ["dev-data", indexStack({})],
  ]);

  test("a failure the failing resource carries a skip for counts as skipped, with the recorded reason", () => {
    const [state] = classify(
      parseCheckovOutput(JSON.stringify(report({ failed: [record("dev-state", "CKV_AWS_144", "resource.state-bucket_828F7150")] }))),
      stacks,
    );
    expect(state.failed).toEqual([]);
    expect(state.skipped).toEqual([{ check: "CKV_AWS_144", name: "name of CKV_AWS_144", address: BUCKET, reason: "one region by design" }]);
  });

  test("a skip of one check does not hide another check on the same resource", () => {
    const [state] = classify(parseCheckovOutput(JSON.stringify(report({ failed: [record("dev-state", "CKV_AWS_18", BUCKET)] }))), stacks);
    expect(state.failed.map((f) => `${f.check} ${f.address}`)).toEqual([`CKV_AWS_18 ${BUCKET}`]);
  });

  test("a skip on one stack's resource does not hide the same address in another stack", () => {
    const [, data] = classify(parseCheckovOutput(JSON.stringify(report({ failed: [record("dev-data", "CKV_AWS_144", BUCKET)] }))), stacks);
    expect(data.failed).toHaveLength(1);
    expect(data.skipped).toEqual([]);
  });

  test("counts passed checks per stack and lists the skips nothing needed", () => {
    const results = parseCheckovOutput(
      JSON.stringify(report({ passed: [record("dev-state", "CKV_AWS_19", BUCKET), record("dev-data", "CKV_AWS_16", "resource.db")] })),
    );
    const [state, data] = classify(results, stacks);
    expect([state.passed, data.passed]).toEqual([1, 1]);
    expect(state.unusedSkips.map((s) => s.check)).toEqual(["CKV_AWS_144"]);
  });

  test("marks a stack checkov could not parse as unreadable", () => {
    const results = parseCheckovOutput(JSON.stringify(report({ parsing_errors: ["/tmp/scan/dev-data/cdk.tf.json"] })));
    expect(classify(results, stacks).map((s) => s.unreadable)).toEqual([false, true]);
  });
});

describe("workflow scanners", () => {
  const zizmorFinding = (ignored: boolean) => ({
    ident: "template-injection",
    desc: "code injection via template expansion",
    determinations: { confidence: "High", severity: "High", persona: "Regular" },
    locations: [
      {
        symbolic: {
          key: { Local: { verbatim_path: ".github/workflows/plan.yml" } },
          annotation: "may expand into attacker-controllable code",
        },
        concrete: { location: { start_point: { row: 41, column: 12 } } },
      },
    ],
    ignored,
  });

  test("zizmor: a finding becomes file:line, rule and description", () => {
    expect(parseZizmorOutput(JSON.stringify([zizmorFinding(false)]))).toEqual([
      ".github/workflows/plan.yml:42: [template-injection] code injection via template expansion",
    ]);
  });

  test("zizmor: a finding the workflow ignores in a comment is not counted", () => {
    expect(parseZizmorOutput(JSON.stringify([zizmorFinding(true)]))).toEqual([]);
  });

  test("zizmor: output that is not a list is an error", () => {
    expect(() => parseZizmorOutput('{"error": true}')).toThrow(/zizmor printed JSON that is not a list/);
  });

  test("actionlint: no output or [] is clean, each error becomes file:line, kind and message", () => {
    expect(parseActionlintOutput("")).toEqual([]);
    expect(parseActionlintOutput("[]\n")).toEqual([]);
    const errors = [
      {
        message: '"github.event.pull_request.title" is potentially untrusted',
        filepath: ".github/workflows/plan.yml",
        line: 9,
        column: 14,
        kind: "expression",
      },
    ];
    expect(parseActionlintOutput(JSON.stringify(errors))).toEqual([
      '.github/workflows/plan.yml:9: [expression] "github.event.pull_request.title" is potentially untrusted',
    ]);
  });
});

describe("report", () => {
  const files = [".github/workflows/drift.yml", ".github/workflows/plan.yml"];
  const clean: WorkflowScan[] = [
    { tool: "zizmor", files, findings: [] },
    { tool: "actionlint", files, findings: [] },
  ];
  const stacks = new Map<string, StackIndex>([
    ["dev-state", indexStack(stackJson)],
    ["dev-data", indexStack({})],
  ]);
  const results = classify(
    parseCheckovOutput(
      JSON.stringify(
        report({
          passed: [
            record("dev-state", "CKV_AWS_19", BUCKET),
            record("dev-data", "CKV_AWS_16", "resource.db"),
            record("dev-data", "CKV_AWS_17", "resource.db"),
          ],
          failed: [record("dev-state", "CKV_AWS_144", BUCKET), record("dev-data", "CKV_AWS_157", "resource.db")],
        }),
      ),
    ),
    stacks,
  );

  test("counts checkov results, skips apart, and one pass per clean workflow per scanner", () => {
    expect(totals(results, clean)).toEqual({ passed: 3 + 4, failed: 1, skipped: 1 });
  });

  test("a workflow finding fails and its file no longer counts as a pass", () => {
    const dirty: WorkflowScan[] = [{ tool: "zizmor", files, findings: [".github/workflows/plan.yml:42: [template-injection] x"] }];
    expect(totals([], dirty)).toEqual({ passed: 1, failed: 1, skipped: 0 });
  });

  test("an unreadable stack is one failure", () => {
    const unread = classify(parseCheckovOutput(JSON.stringify(report({ parsing_errors: ["/x/dev-data/cdk.tf.json"] }))), stacks);
    expect(totals(unread, []).failed).toBe(1);
  });

  test("prints a row per stack, the unskipped failure and ends with the closing line .ci/run counts", () => {
    const text = formatReport(results, clean);
    const lines = text.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^dev-state\s+1\s+0\s+1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^dev-data\s+2\s+1\s+0$/));
    expect(text).toContain("dev-data: CKV_AWS_157 resource.db: name of CKV_AWS_157");
    expect(lines[lines.length - 1]).toBe("7 passed, 1 failed");
  });
});

test("forCheckov leaves out only the moved blocks checkov 3.3.30 cannot parse", () => {
  expect(Object.keys(forCheckov(stackJson))).toEqual(["resource"]);
  expect(forCheckov(stackJson).resource).toBe(stackJson.resource);
});
