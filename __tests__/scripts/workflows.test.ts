/**
 * The GitHub workflows, parsed: triggers, permissions, pinned actions and the commands they run.
 * The small shell steps are run here for real.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { REVIEW_MARKER } from "../../scripts/lib/plan-review";
import type { Json } from "../helpers";

const ROOT = join(__dirname, "..", "..");
const workflow = (name: string): Json => parse(readFileSync(join(ROOT, ".github", "workflows", name), "utf8"));
const plan = workflow("plan.yml");
const drift = workflow("drift.yml");

const steps = (job: Json): Json[] => job.steps;
const runs = (job: Json): string =>
  steps(job)
    .map((s) => s.run ?? "")
    .join("\n");
const uses = (job: Json, action: string): Json => {
  const step = steps(job).find((s) => String(s.uses ?? "").startsWith(`${action}@`));
  if (!step) throw new Error(`no ${action} step`);
  return step;
};
const allUses = (wf: Json): string[] =>
  Object.values(wf.jobs as Record<string, Json>).flatMap((job) => steps(job).flatMap((s) => (s.uses ? [s.uses as string] : [])));

/** Runs a workflow `run:` script with bash, as the runner would, in the repository root. */
function runStep(script: string, env: Record<string, string>): { code: number; output: string; githubOutput: string } {
  const dir = mkdtempSync(join(tmpdir(), "workflow-step-"));
  const githubOutput = join(dir, "output");
  try {
    const r = spawnSync("bash", ["-e", "-c", script], { cwd: ROOT, env: { ...process.env, GITHUB_OUTPUT: githubOutput, ...env } });
    let written = "";
    try {
      written = readFileSync(githubOutput, "utf8");
    } catch {
      // the step wrote no output
    }
    return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}`, githubOutput: written };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records the GitHub API calls a github-script step makes; `paginate` answers with `listed`. */
function fakeGitHub(listed: Json[]) {
  const calls: { method: string; args: Json }[] = [];
  const record = (method: string) => async (args: Json) => {
    calls.push({ method, args });
    return { data: { number: 7 } };
  };
  const github = {
    paginate: async () => listed,
    rest: {
      issues: {
        listComments: record("listComments"),
        listForRepo: record("listForRepo"),
        createComment: record("createComment"),
        updateComment: record("updateComment"),
        create: record("create"),
        update: record("update"),
      },
    },
  };
  return { github, calls };
}

/**
 * Runs an actions/github-script `script` as the action does (an async function body with github,
 * context, core and require), reading files from `dir` instead of the workspace.
 */
async function runScript(script: string, dir: string, github: unknown, context: Json, env: Record<string, string> = {}): Promise<void> {
  const inDir = (p: string) => resolve(dir, p);
  const files = {
    existsSync: (p: string) => fs.existsSync(inDir(p)),
    readdirSync: (p: string) => fs.readdirSync(inDir(p)),
    readFileSync: (p: string, encoding: BufferEncoding) => fs.readFileSync(inDir(p), encoding),
  };
  const modules: Record<string, unknown> = { fs: files, path };
  const fakeRequire = (name: string) => {
    if (!(name in modules)) throw new Error(`the script requires ${name}: add it to the test's modules`);
    return modules[name];
  };
  const core = { info: () => undefined };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    await new AsyncFunction("github", "context", "core", "require", script)(github, context, core, fakeRequire);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const CONTEXT = { serverUrl: "https://github.com", repo: { owner: "acme", repo: "infra" }, runId: 42 };

describe.each([
  ["plan.yml", plan],
  ["drift.yml", drift],
])("%s", (_name, wf) => {
  test("every action is pinned to a full commit SHA", () => {
    expect(allUses(wf).length).toBeGreaterThan(0);
    for (const u of allUses(wf)) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  test("the workflow token can only read contents unless a job asks for more", () => {
    expect(wf.permissions).toEqual({ contents: "read" });
  });

  test("Terraform is 1.11.x with the wrapper off, so exit codes and JSON are Terraform's own", () => {
    const jobs = Object.values(wf.jobs as Record<string, Json>).filter((j) =>
      steps(j).some((s) => String(s.uses).startsWith("hashicorp/")),
    );
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(uses(job, "hashicorp/setup-terraform").with).toEqual({ terraform_version: "1.11.x", terraform_wrapper: false });
    }
  });

  test("no job that can reach AWS can also write to the repository's issues or code", () => {
    for (const job of Object.values(wf.jobs as Record<string, Json>)) {
      if (job.permissions?.["id-token"] !== "write") continue;
      expect(job.permissions.issues).toBeUndefined();
      expect(job.permissions.contents).toBe("read");
    }
  });
});

describe("plan.yml", () => {
  const { test: testJob, plan: planJob } = plan.jobs;

  test("runs on pull requests, again when a label is added or removed, and never as pull_request_target", () => {
    expect(Object.keys(plan.on)).toEqual(["pull_request"]);
    expect(plan.on.pull_request.types).toEqual(expect.arrayContaining(["opened", "synchronize", "labeled", "unlabeled"]));
  });

  test("installs exactly the lockfile and runs the tests before any plan", () => {
    expect(runs(testJob)).toMatch(/npm ci\n[\s\S]*npm test/);
    expect(planJob.needs).toBe("test");
  });

  test("plans prod through the read-only plan role, with an OIDC token and no stored keys", () => {
    expect(planJob.env.ENVIRONMENT).toBe("prod");
    expect(runs(planJob)).toContain('npm run --silent plan -- "$ENVIRONMENT" --fail-on-danger --markdown review.md');
    expect(planJob.permissions["id-token"]).toBe("write");
    const credentials = uses(planJob, "aws-actions/configure-aws-credentials").with;
    expect(credentials["role-to-assume"]).toBe("${{ fromJSON(vars.PLAN_ROLE_ARNS)[env.ENVIRONMENT] }}");
    expect(JSON.stringify(plan)).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\./);
  });

  test("only the plan job gets an OIDC token; the tests run without one", () => {
    expect(testJob.permissions).toBeUndefined();
  });

  test("fork pull requests, which get no OIDC token, are tested but not planned", () => {
    expect(planJob.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
  });

  test("the review goes to the job summary and to one PR comment found by the review's marker", () => {
    expect(runs(planJob)).toContain('cat review.md >> "$GITHUB_STEP_SUMMARY"');
    const comment = uses(planJob, "actions/github-script");
    expect(comment.with.script).toContain(`const marker = "${REVIEW_MARKER}"`);
    expect(comment.with.script).toContain("updateComment");
    expect(planJob.permissions["pull-requests"]).toBe("write");
  });

  test("the gate fails on DANGER unless the PR has the allow-destructive label, and always on errors", () => {
    const gate = steps(planJob).find((s) => String(s.name).startsWith("Gate"))!;
    expect(gate.env.ALLOWED).toBe("${{ contains(github.event.pull_request.labels.*.name, 'allow-destructive') }}");
    const run = (exit: string, allowed: string) => runStep(gate.run, { EXIT: exit, ALLOWED: allowed }).code;
    expect(run("0", "false")).toBe(0);
    expect(run("2", "false")).toBe(0);
    expect(run("3", "false")).toBe(1);
    expect(run("3", "true")).toBe(0);
    expect(run("1", "true")).toBe(1);
  });

  describe("PR comment script", () => {
    const script = uses(planJob, "actions/github-script").with.script as string;
    const context = { ...CONTEXT, payload: { pull_request: { number: 5, head: { sha: "0123456789abcdef" } } } };
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "plan-comment-"));
      writeFileSync(join(dir, "review.md"), `${REVIEW_MARKER}\n## review body`);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("creates the comment when the PR has none yet", async () => {
      const { github, calls } = fakeGitHub([{ id: 1, user: { type: "User" }, body: "looks good" }]);
      await runScript(script, dir, github, context, { ENVIRONMENT: "prod", EXIT: "2" });
      expect(calls).toEqual([{ method: "createComment", args: expect.objectContaining({ issue_number: 5 }) }]);
      expect(calls[0].args.body).toMatch(/^<!-- infra-plan-review -->\n## review body\n\n_Commit 0123456, \[job log\]/);
    });

    test("updates its own earlier comment in place", async () => {
      const { github, calls } = fakeGitHub([
        { id: 1, user: { type: "User" }, body: `${REVIEW_MARKER} quoted by a person` },
        { id: 9, user: { type: "Bot" }, body: `${REVIEW_MARKER}\nold review` },
      ]);
      await runScript(script, dir, github, context, { ENVIRONMENT: "prod", EXIT: "2" });
      expect(calls.map((c) => [c.method, c.args.comment_id])).toEqual([["updateComment", 9]]);
    });

    test("says the plan stopped when there is no review file", async () => {
      rmSync(join(dir, "review.md"));
      const { github, calls } = fakeGitHub([]);
      await runScript(script, dir, github, context, { ENVIRONMENT: "prod", EXIT: "1" });
      expect(calls[0].args.body).toContain("**The plan stopped before its review (exit 1).**");
    });
  });

  test("a missing PLAN_ROLE_ARNS variable stops the job with a message naming it", () => {
    const check = steps(planJob).find((s) => String(s.name).startsWith("Check the plan role"))!;
    const missing = runStep(check.run, { ENVIRONMENT: "prod", ROLE_ARNS: "" });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain("PLAN_ROLE_ARNS");
    expect(runStep(check.run, { ENVIRONMENT: "prod", ROLE_ARNS: '{"prod":"arn:aws:iam::1:role/x"}' }).code).toBe(0);
  });
});

describe("drift.yml", () => {
  const { environments, drift: driftJob, issue } = drift.jobs;

  test("runs daily on a schedule and on demand", () => {
    expect(Object.keys(drift.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(drift.on.schedule).toHaveLength(1);
    expect(drift.on.schedule[0].cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
  });

  test("checks every environment in config/", () => {
    const list = runStep(steps(environments).find((s) => s.id === "list")!.run, {});
    expect(list.code).toBe(0);
    const expected = readdirSync(join(ROOT, "config"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(list.githubOutput.trim()).toBe(`list=${JSON.stringify(expected)}`);
    expect(driftJob.strategy.matrix.environment).toBe("${{ fromJSON(needs.environments.outputs.list) }}");
    expect(driftJob.strategy["fail-fast"]).toBe(false);
  });

  test("runs npm run drift per environment with its own read-only drift role", () => {
    expect(runs(driftJob)).toContain('npm run --silent drift -- "$ENVIRONMENT" --markdown "drift-$ENVIRONMENT.md"');
    expect(driftJob.permissions["id-token"]).toBe("write");
    expect(uses(driftJob, "aws-actions/configure-aws-credentials").with["role-to-assume"]).toBe(
      "${{ fromJSON(vars.DRIFT_ROLE_ARNS)[matrix.environment] }}",
    );
  });

  test("opens or updates one issue labelled drift, found by its marker, when an environment drifted", () => {
    expect(issue.permissions).toEqual({ issues: "write" });
    expect(issue.if).toBe("always() && needs.drift.result != 'skipped'");
    const script = uses(issue, "actions/github-script").with.script as string;
    expect(script).toContain('const marker = "<!-- infra-drift-report -->"');
    expect(script).toContain('=== "2"');
    expect(script).toContain("github.rest.issues.update(");
    expect(script).toContain('labels: ["drift"]');
  });
  describe("issue script", () => {
    const script = uses(issue, "actions/github-script").with.script as string;
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "drift-issue-"));
      mkdirSync(join(dir, "reports"));
      for (const [env, exit] of [
        ["dev", "0"],
        ["prod", "2"],
        ["qa", "1"],
      ]) {
        writeFileSync(join(dir, "reports", `drift-${env}.exit`), `${exit}\n`);
        writeFileSync(join(dir, "reports", `drift-${env}.md`), `report of ${env}`);
      }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("opens one issue labelled drift with the reports of the environments that drifted", async () => {
      const { github, calls } = fakeGitHub([]);
      await runScript(script, dir, github, CONTEXT);
      expect(calls.map((c) => c.method)).toEqual(["create"]);
      expect(calls[0].args).toMatchObject({ title: "Infrastructure drift: prod", labels: ["drift"] });
      expect(calls[0].args.body).toMatch(/^<!-- infra-drift-report -->/);
      expect(calls[0].args.body).toContain("report of prod");
      expect(calls[0].args.body).not.toContain("report of dev");
    });

    test("updates the open drift issue instead of opening another", async () => {
      const { github, calls } = fakeGitHub([
        { number: 3, body: "a person's issue labelled drift" },
        { number: 4, body: "<!-- infra-drift-report -->\nyesterday" },
      ]);
      await runScript(script, dir, github, CONTEXT);
      expect(calls.map((c) => [c.method, c.args.issue_number])).toEqual([["update", 4]]);
    });

    test("does nothing when no environment drifted and there is no open drift issue", async () => {
      writeFileSync(join(dir, "reports", "drift-prod.exit"), "0\n");
      const { github, calls } = fakeGitHub([]);
      await runScript(script, dir, github, CONTEXT, { ENVIRONMENTS: '["dev","prod","qa"]' });
      expect(calls).toEqual([]);
    });

    test("closes the open drift issue once every environment is checked clean", async () => {
      writeFileSync(join(dir, "reports", "drift-prod.exit"), "0\n");
      writeFileSync(join(dir, "reports", "drift-qa.exit"), "0\n");
      const { github, calls } = fakeGitHub([{ number: 4, body: "<!-- infra-drift-report -->\nyesterday" }]);
      await runScript(script, dir, github, CONTEXT, { ENVIRONMENTS: '["dev","prod","qa"]' });
      expect(calls.map((c) => [c.method, c.args.issue_number, c.args.state])).toEqual([
        ["createComment", 4, undefined],
        ["update", 4, "closed"],
      ]);
    });

    test("keeps the drift issue open while an environment could not be checked", async () => {
      writeFileSync(join(dir, "reports", "drift-prod.exit"), "0\n");
      const { github, calls } = fakeGitHub([{ number: 4, body: "<!-- infra-drift-report -->\nyesterday" }]);
      await runScript(script, dir, github, CONTEXT, { ENVIRONMENTS: '["dev","prod","qa"]' });
      expect(calls).toEqual([]);
    });
  });
});
