/**
 * Reads the Terraform expressions cdktf writes into synthesized attributes, far enough for the
 * guardrails to look inside them: `${jsonencode({...})}` policies and secret documents, references
 * such as `${aws_s3_bucket.x.arn}`. Literals come back as JSON values; what only Terraform can know
 * at apply time (a reference, a function call's result) comes back as an `Unknown` holding its text.
 * Anything else (conditionals, operators, `for` expressions) is a `ReadError`: the caller says so
 * instead of guessing.
 */

/** A value known only at apply time: a reference or a function call Terraform evaluates. */
export class Unknown {
  constructor(
    /** The expression as written, e.g. `aws_s3_bucket.b.arn` or `concat(a, b)`. */
    readonly expression: string,
    /** For a function call: its name and its arguments as read. */
    readonly call?: { readonly name: string; readonly args: readonly Value[] },
  ) {}
}

export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value };

export class ReadError extends Error {}

/** True when `text` holds Terraform interpolation (`${...}`), i.e. is not a plain literal. */
export function isInterpolated(text: string): boolean {
  return /(^|[^$])\$\{/.test(text);
}

/**
 * An attribute value as Terraform will see it: a string that is exactly one `${ expr }` is read as
 * `expr`; any other string is itself (a literal, or a template whose parts mix literal and references).
 */
export function readAttribute(value: unknown): Value {
  if (typeof value !== "string") return value as Value;
  const inner = wholeInterpolation(value);
  return inner === undefined ? value : readExpression(inner);
}

/** Reads one HCL expression (no surrounding `${}`). Throws `ReadError` for what it cannot read. */
export function readExpression(text: string): Value {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipSpace();
  if (!reader.done()) reader.fail("an operator or expression the guardrails cannot evaluate");
  return value;
}

/** `expr` when `text` is exactly `${expr}` (one interpolation spanning the whole string). */
function wholeInterpolation(text: string): string | undefined {
  if (!text.startsWith("${") || !text.endsWith("}")) return undefined;
  const end = new Reader(text).interpolationEnd(2);
  return end === text.length - 1 ? text.slice(2, -1) : undefined;
}

class Reader {
  private pos = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    const near = this.text.slice(this.pos, this.pos + 30);
    throw new ReadError(`${what} at character ${this.pos}${near ? ` ("${near}${near.length === 30 ? "..." : ""}")` : ""}`);
  }

  skipSpace(): void {
    while (!this.done() && /\s/.test(this.text[this.pos])) this.pos++;
  }

  value(): Value {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.tuple();
    if (c === '"') return this.string();
    if (c !== undefined && /[-0-9]/.test(c)) return this.number();
    if (c !== undefined && /[A-Za-z_]/.test(c)) return this.traversalOrCall();
    return this.fail("an expression the guardrails cannot read");
  }

  private object(): { [key: string]: Value } {
    const out: { [key: string]: Value } = {};
    this.pos++; // {
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.text[this.pos] === '"' ? this.string() : this.identifier();
      if (typeof key !== "string" || isInterpolated(key)) this.fail("an object key that is not a literal");
      this.skipSpace();
      if (this.text[this.pos] !== "=" && this.text[this.pos] !== ":") this.fail('"=" after an object key');
      this.pos++;
      out[key] = this.value();
      this.separator("}");
    }
  }

  private tuple(): Value[] {
    const out: Value[] = [];
    this.pos++; // [
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.separator("]");
    }
  }

  /** After an item: a comma or newline, or the closing bracket (left for the caller). */
  private separator(close: string): void {
    const start = this.pos;
    this.skipSpace();
    if (this.text[this.pos] === ",") this.pos++;
    else if (this.text[this.pos] !== close && !this.text.slice(start, this.pos).includes("\n")) this.fail(`"," or "${close}"`);
  }

  /** A quoted string; escapes decoded, interpolations kept as written. */
  private string(): string {
    let out = "";
    this.pos++; // opening quote
    while (!this.done()) {
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        const next = this.text[this.pos + 1];
        out += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next;
        this.pos += 2;
      } else if (c === "$" && this.text[this.pos + 1] === "{") {
        const end = this.interpolationEnd(this.pos + 2);
        out += this.text.slice(this.pos, end + 1);
        this.pos = end + 1;
      } else {
        out += c;
        this.pos++;
      }
    }
    return this.fail("an unterminated string");
  }

  /** Index of the `}` closing an interpolation whose body starts at `from`. */
  interpolationEnd(from: number): number {
    let depth = 0;
    let i = from;
    while (i < this.text.length) {
      const c = this.text[i];
      if (c === '"') {
        i = this.stringEnd(i) + 1;
        continue;
      }
      if (c === "{") depth++;
      if (c === "}") {
        if (depth === 0) return i;
        depth--;
      }
      i++;
    }
    this.pos = from;
    return this.fail("an unterminated interpolation");
  }

  private stringEnd(open: number): number {
    let i = open + 1;
    while (i < this.text.length) {
      const c = this.text[i];
      if (c === "\\") i += 2;
      else if (c === '"') return i;
      else if (c === "$" && this.text[i + 1] === "{") i = this.interpolationEnd(i + 2) + 1;
      else i++;
    }
    this.pos = open;
    return this.fail("an unterminated string");
  }

  private number(): number {
    const match = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) this.fail("a number");
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private identifier(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
    if (!match) this.fail("a name");
    this.pos += match[0].length;
    return match[0];
  }

  /** `true`, `null`, `aws_s3_bucket.b.arn`, `var.x[0]`, `jsonencode({...})`. */
  private traversalOrCall(): Value {
    const start = this.pos;
    const name = this.identifier();
    if (name === "true" || name === "false") return name === "true";
    if (name === "null") return null;
    if (this.text[this.pos] === "(") return this.call(start, name);
    for (;;) {
      const c = this.text[this.pos];
      if (c === "." && this.text[this.pos + 1] === "*") this.pos += 2;
      else if (c === "." && /[0-9]/.test(this.text[this.pos + 1] ?? "")) {
        this.pos++;
        this.number();
      } else if (c === ".") {
        this.pos++;
        this.identifier();
      } else if (c === "[") {
        this.pos++;
        this.value();
        this.skipSpace();
        if (this.text[this.pos] !== "]") this.fail('"]" closing an index');
        this.pos++;
      } else break;
    }
    return new Unknown(this.text.slice(start, this.pos));
  }

  private call(start: number, name: string): Unknown {
    const args: Value[] = [];
    this.pos++; // (
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ")") {
        this.pos++;
        return new Unknown(this.text.slice(start, this.pos), { name, args });
      }
      args.push(this.value());
      this.separator(")");
    }
  }
}
