import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bastionUserData,
  PER_BOOT_SCRIPT,
  portForwardingCommand,
  postgresClientPackages,
  type DatabaseLogin,
} from "../../constructs/bastion-user-data";

const database: DatabaseLogin = {
  region: "eu-west-1",
  address: "acme-db.abc123.eu-west-1.rds.amazonaws.com",
  port: 5432,
  masterSecretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1234-AbCdEf",
  appSecretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds/acme/multi-tenant/master-XyZ123",
  appDatabases: ["acme_prod", "acme_lab"],
  engineMajorVersion: "16",
};

const script = (overrides: Partial<DatabaseLogin> = {}) =>
  bastionUserData({ name: "acme-test-bastion", database: { ...database, ...overrides } });

/** The login message: the heredoc written to /etc/motd. */
function motd(text: string): string {
  return /cat > \/etc\/motd <<'MOTD'\n([\s\S]*?)\nMOTD\n/.exec(text)![1];
}

describe("bastionUserData", () => {
  test("is a bash script that makes sure the SSM agent is installed and running before anything else", () => {
    const lines = script().split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    expect(execFileSync("bash", ["-n"], { input: script() }).toString()).toBe("");
    const agent = lines.findIndex((l) => l.includes("systemctl enable --now amazon-ssm-agent"));
    expect(agent).toBeGreaterThan(0);
    expect(lines.findIndex((l) => l.includes("rpm -q amazon-ssm-agent"))).toBeLessThan(agent);
    expect(lines.findIndex((l) => l.includes('dnf install -y "$pkg" jq'))).toBeGreaterThan(agent);
  });

  test("installs jq and the PostgreSQL client of the server's major version, falling back to older AL2023 packages", () => {
    expect(script()).toContain("for pkg in postgresql16 postgresql15; do");
    expect(script()).toContain('dnf install -y "$pkg" jq && break');
  });

  test("login message names the real RDS address and port and both secret ARNs", () => {
    const message = motd(script());
    expect(message).toContain(`${database.address}:5432`);
    expect(message).toContain(`master secret     ${database.masterSecretArn}`);
    expect(message).toContain(`app secret        ${database.appSecretArn}`);
  });

  test("login message gives exact connect commands that read each login from its own secret", () => {
    const message = motd(script());
    expect(message).toContain(
      `master=$(aws secretsmanager get-secret-value --region eu-west-1 --secret-id ${database.masterSecretArn} --query SecretString --output text)`,
    );
    expect(message).toContain(
      `PGPASSWORD=$(jq -r .password <<<"$master") psql "host=${database.address} port=5432 dbname=postgres sslmode=require user=$(jq -r .username <<<"$master")"`,
    );
    expect(message).toContain(`app=$(aws secretsmanager get-secret-value --region eu-west-1 --secret-id ${database.appSecretArn}`);
    expect(message).toContain(`dbname=acme_prod sslmode=require user=$(jq -r .username <<<"$app")`);
  });

  test("login message is written verbatim: the heredoc is quoted so the shell expands nothing at boot", () => {
    expect(script()).toContain("cat > /etc/motd <<'MOTD'\n");
  });

  test("never prints a password: no echo of a secret and no get-secret-value outside a variable assignment", () => {
    const text = script();
    expect(text).not.toMatch(/echo .*(password|PGPASSWORD|\$master|\$app)/);
    for (const line of text.split("\n").filter((l) => l.includes("get-secret-value"))) expect(line).toMatch(/^\s+(master|app)=\$\(aws /);
  });

  test("contains no Terraform template syntax that Terraform would try to evaluate", () => {
    expect(script()).not.toMatch(/[$%]\{/);
  });

  test("without a database only the SSM agent is handled", () => {
    const text = bastionUserData({ name: "acme-test-bastion" });
    expect(text).toContain("amazon-ssm-agent");
    expect(text).not.toContain("/etc/motd");
    expect(text).not.toContain("postgresql");
  });

  test("an engine version that is not a major version is rejected naming the field", () => {
    expect(() => script({ engineMajorVersion: "sixteen" })).toThrow(/database\.engineMajorVersion.*got "sixteen"/);
  });
});

/**
 * Boots, played with the real script: paths under a temp root, and a PATH of fakes (rpm, systemctl,
 * dnf) plus the few coreutils the script uses, so no psql or jq of this machine can be found.
 */
describe("bastionUserData across boots (the instance may be stopped before the first one finishes)", () => {
  let root: string;
  let bin: string;
  const dnfLog = () => (existsSync(join(root, "dnf.log")) ? readFileSync(join(root, "dnf.log"), "utf8").trim().split("\n") : []);
  const perBoot = () => join(root, PER_BOOT_SCRIPT);
  /** The script with every absolute path it writes moved under the temp root. */
  const rooted = (text: string) => text.replaceAll("/var/lib/cloud/", `${root}/var/lib/cloud/`).replaceAll("/etc/", `${root}/etc/`);
  /** dnf: logs its arguments; "works" installs psql and jq as executables on PATH, "cut" fails as a stopped instance would. */
  const fakeDnf = (mode: "works" | "cut") =>
    writeFileSync(
      join(bin, "dnf"),
      `#!/bin/bash\necho "$*" >> ${root}/dnf.log\n` +
        (mode === "works" ? `for t in psql jq; do printf '#!/bin/bash\\n' > ${bin}/$t; chmod +x ${bin}/$t; done\n` : "exit 1\n"),
      { mode: 0o755 },
    );
  const run = (file: string) => spawnSync("/bin/bash", [file], { env: { PATH: bin }, encoding: "utf8" });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "bastion-boot-"));
    bin = join(root, "bin");
    mkdirSync(join(root, "etc", "profile.d"), { recursive: true });
    mkdirSync(bin);
    for (const tool of ["cat", "mkdir", "chmod"]) {
      const real = ["/usr/bin", "/bin"].map((d) => join(d, tool)).find((p) => existsSync(p));
      symlinkSync(real!, join(bin, tool));
    }
    for (const tool of ["rpm", "systemctl"]) writeFileSync(join(bin, tool), "#!/bin/bash\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(root, "user-data.sh"), rooted(script()));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("the first boot installs the setup as an executable per-boot script, then psql and jq", () => {
    fakeDnf("works");
    expect(run(join(root, "user-data.sh")).status).toBe(0);
    expect(statSync(perBoot()).mode & 0o111).toBe(0o111);
    expect(existsSync(join(bin, "psql")) && existsSync(join(bin, "jq"))).toBe(true);
    expect(dnfLog()).toEqual(["install -y postgresql16 jq"]);
    expect(readFileSync(join(root, "etc", "motd"), "utf8")).toContain(`${database.address}:5432`);
  });

  test("a first boot cut short before the packages are in is completed by the next boot", () => {
    fakeDnf("cut");
    run(join(root, "user-data.sh"));
    expect(existsSync(join(bin, "psql"))).toBe(false);
    expect(existsSync(perBoot())).toBe(true);
    // Next start: cloud-init's scripts_per_boot runs the per-boot script (the user data does not run again).
    fakeDnf("works");
    expect(run(perBoot()).status).toBe(0);
    expect(existsSync(join(bin, "psql")) && existsSync(join(bin, "jq"))).toBe(true);
  });

  test("a boot that finds psql and jq installs nothing", () => {
    fakeDnf("works");
    run(join(root, "user-data.sh"));
    const before = dnfLog().length;
    expect(run(perBoot()).status).toBe(0);
    expect(dnfLog()).toHaveLength(before);
  });
});

describe("postgresClientPackages", () => {
  test("older servers get the oldest client AL2023 ships, which still speaks to them", () => {
    expect(postgresClientPackages("13")).toEqual(["postgresql15"]);
  });

  test("newer servers try their own client first", () => {
    expect(postgresClientPackages("17")).toEqual(["postgresql17", "postgresql16", "postgresql15"]);
  });
});

describe("portForwardingCommand", () => {
  test("is a ready-to-paste SSM port forward to the remote host", () => {
    expect(portForwardingCommand({ target: "i-0abc", host: database.address, port: 5432, localPort: 15432, region: "eu-west-1" })).toBe(
      "aws ssm start-session --target i-0abc --document-name AWS-StartPortForwardingSessionToRemoteHost " +
        `--parameters host=${database.address},portNumber=5432,localPortNumber=15432 --region eu-west-1`,
    );
  });
});
