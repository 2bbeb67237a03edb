/**
 * A stand-in for the RDS API on 127.0.0.1, just enough for the provider's `aws_db_instances` and
 * `aws_db_instance` data sources to read one deployed instance (or none) during an offline plan.
 * Every request's Action is recorded; anything else answers an error naming it.
 */
import { createServer, type Server } from "node:http";

export interface FakeRds {
  readonly endpoint: string;
  /** Actions received, in order. */
  readonly actions: string[];
  /** The deployed instance's identifier and engine version ("16.4"), or undefined for none. */
  deployed?: { identifier: string; engineVersion: string };
  close(): Promise<void>;
}

export async function startFakeRds(): Promise<FakeRds> {
  const actions: string[] = [];
  const fake: FakeRds = {
    endpoint: "",
    actions,
    deployed: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const params = new URLSearchParams(body);
      const action = params.get("Action") ?? "(none)";
      actions.push(action);
      res.setHeader("Content-Type", "text/xml");
      if (action === "DescribeDBInstances") {
        const wanted = params.get("DBInstanceIdentifier");
        const d = fake.deployed;
        if (wanted && (!d || d.identifier !== wanted)) {
          res.statusCode = 404;
          res.end(error("DBInstanceNotFound", `DBInstance ${wanted} not found.`));
          return;
        }
        res.end(respond(action, `<DBInstances>${d ? instance(d.identifier, d.engineVersion) : ""}</DBInstances>`));
        return;
      }
      if (action === "ListTagsForResource") {
        res.end(respond(action, "<TagList></TagList>"));
        return;
      }
      res.statusCode = 400;
      res.end(error("InvalidAction", `the fake RDS does not answer ${action}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  return Object.assign(fake, { endpoint: `http://127.0.0.1:${port}` });
}

function respond(action: string, result: string): string {
  return (
    `<${action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></${action}Response>`
  );
}

function error(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>0</RequestId></ErrorResponse>`;
}

function instance(identifier: string, engineVersion: string): string {
  return (
    `<DBInstance><DBInstanceIdentifier>${identifier}</DBInstanceIdentifier><Engine>postgres</Engine>` +
    `<EngineVersion>${engineVersion}</EngineVersion><DBInstanceStatus>available</DBInstanceStatus>` +
    `<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:${identifier}</DBInstanceArn>` +
    `<DBInstanceClass>db.t4g.micro</DBInstanceClass><AllocatedStorage>20</AllocatedStorage>` +
    `<Endpoint><Address>${identifier}.offline.us-east-1.rds.amazonaws.com</Address><Port>5432</Port><HostedZoneId>Z2R2ITUGPM61AM</HostedZoneId></Endpoint>` +
    `<DBParameterGroups><DBParameterGroup><DBParameterGroupName>offline-postgres</DBParameterGroupName><ParameterApplyStatus>in-sync</ParameterApplyStatus></DBParameterGroup></DBParameterGroups>` +
    `<TagList></TagList></DBInstance>`
  );
}
