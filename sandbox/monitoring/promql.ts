/**
 * A subset of PromQL, as Cloud Monitoring documents it for `conditionPrometheusQueryLanguage` (Prometheus
 * semantics; Google metric names with `:` for the first `/` and `_` for the others, the resource type in the
 * `monitored_resource` label). Written from the Prometheus and Cloud Monitoring docs, enough to evaluate
 * alert queries over the sandbox's own metrics:
 *
 *   selectors `name{a="x", b=~"re", c!="y"}`, `increase(sel[5m])`, `sum|max|min|count [by (l…)] (…)`,
 *   `vector(n)`, `time()`, `minute() hour() day_of_month() day_of_week() days_in_month()` (of `vector(time())`
 *   when called without an argument), comparisons with a number (filtering), `and`/`or` with `on(l…)`,
 *   parentheses. Anything else is refused at create time with INVALID_ARGUMENT, naming the token.
 *
 * @example
 * const ast = parsePromql('sum by (job_name) (increase(x{result="failed"}[5m])) > 0');
 * evalPromql(ast, { at: Date.now(), series: () => [...] });
 */

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}
/** A metric's data: `points(series)` for counters (deltas), `valueAt` for gauges. */
export interface SeriesData {
  labels: Labels;
  /** Delta points (time ms, value), oldest first. */
  points: { t: number; v: number }[];
  kind: "delta" | "gauge";
}
export interface EvalContext {
  at: number;
  series: (metric: string) => SeriesData[];
}

type Matcher = { label: string; op: "=" | "!=" | "=~" | "!~"; value: string };
export type Node =
  | { type: "number"; value: number }
  | { type: "selector"; metric: string; matchers: Matcher[]; rangeMs?: number }
  | { type: "call"; fn: string; args: Node[] }
  | { type: "agg"; op: string; by: string[]; expr: Node }
  | { type: "cmp"; op: string; left: Node; right: Node }
  | { type: "set"; op: "and" | "or"; on: string[] | null; left: Node; right: Node };

const TOKEN =
  /\s*(?:(?<num>\d+(?:\.\d+)?)(?<unit>ms|s|m|h|d|w|y)?|(?<id>[a-zA-Z_:][a-zA-Z0-9_:]*)|(?<str>"(?:[^"\\]|\\.)*")|(?<op>==|!=|>=|<=|=~|!~|[(){}[\],<>=]))/y;

function tokenize(query: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < query.length) {
    if (/^\s*$/.test(query.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(query);
    if (!match) throw new Error(`unexpected "${query.slice(index).trim().slice(0, 20)}" at ${index}`);
    tokens.push(match[0].trim());
    index = TOKEN.lastIndex;
  }
  return tokens;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
  d: 8.64e7,
  w: 6.048e8,
  y: 3.1536e10,
};
const durationMs = (text: string): number => {
  const match = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration (e.g. 5m, 1h)`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
};

const AGGREGATIONS = new Set(["sum", "max", "min", "count"]);
const TIME_FUNCTIONS = new Set(["minute", "hour", "day_of_month", "day_of_week", "days_in_month"]);

/** Parses `query`; throws an Error naming the unsupported or misplaced token. */
export function parsePromql(query: string): Node {
  const tokens = tokenize(query);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const token = tokens[pos++];
    if (token === undefined) throw new Error("unexpected end of query");
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new Error(`expected "${token}", got "${got}"`);
  };
  /** `keyword (l, …)` when the next token is `keyword`, else null. */
  const optionalLabels = (keyword: string): string[] | null => {
    if (peek() !== keyword) return null;
    next();
    return labelList();
  };
  const labelList = (): string[] => {
    expect("(");
    const labels: string[] = [];
    while (peek() !== ")") {
      labels.push(next());
      if (peek() === ",") next();
    }
    expect(")");
    return labels;
  };
  const setExpr = (): Node => {
    let left = cmpExpr();
    for (let op = peek(); op === "and" || op === "or"; op = peek()) {
      next();
      const on = optionalLabels("on");
      left = { type: "set", op, on, left, right: cmpExpr() };
    }
    return left;
  };
  const cmpExpr = (): Node => {
    const left = primary();
    const op = peek();
    if (op && ["==", "!=", ">", "<", ">=", "<="].includes(op)) {
      next();
      return { type: "cmp", op, left, right: primary() };
    }
    return left;
  };
  const primary = (): Node => {
    const token = next();
    if (token === "(") {
      const inner = setExpr();
      expect(")");
      return inner;
    }
    if (/^\d/.test(token)) return { type: "number", value: Number(token) };
    if (!/^[a-zA-Z_:]/.test(token)) throw new Error(`unexpected "${token}"`);
    if (AGGREGATIONS.has(token)) {
      const by = optionalLabels("by") ?? [];
      expect("(");
      const expr = setExpr();
      expect(")");
      return { type: "agg", op: token, by, expr };
    }
    if (
      peek() === "(" &&
      (token === "increase" || token === "vector" || token === "time" || TIME_FUNCTIONS.has(token))
    ) {
      next();
      const args: Node[] = [];
      while (peek() !== ")") {
        args.push(setExpr());
        if (peek() === ",") next();
      }
      expect(")");
      if (token === "increase" && (args[0]?.type !== "selector" || args[0].rangeMs === undefined))
        throw new Error("increase() takes a range selector, e.g. increase(metric[5m])");
      return { type: "call", fn: token, args };
    }
    if (peek() === "(") throw new Error(`function "${token}" is not supported by the sandbox`);
    const matchers: Matcher[] = [];
    if (peek() === "{") {
      next();
      while (peek() !== "}") {
        const label = next();
        const op = next() as Matcher["op"];
        if (!["=", "!=", "=~", "!~"].includes(op)) throw new Error(`bad matcher operator "${op}"`);
        const value = JSON.parse(next()) as string;
        matchers.push({ label, op, value });
        if (peek() === ",") next();
      }
      expect("}");
    }
    const node: Node = { type: "selector", metric: token, matchers };
    if (peek() === "[") {
      next();
      node.rangeMs = durationMs(next());
      expect("]");
    }
    return node;
  };
  const ast = setExpr();
  if (pos < tokens.length) throw new Error(`unexpected "${tokens[pos]}" after the expression`);
  return ast;
}

const matches = (labels: Labels, matchers: Matcher[]): boolean =>
  matchers.every(({ label, op, value }) => {
    const actual = labels[label] ?? "";
    if (op === "=") return actual === value;
    if (op === "!=") return actual !== value;
    const full = new RegExp(`^(?:${value})$`).test(actual);
    return op === "=~" ? full : !full;
  });

const key = (labels: Labels, only?: string[]): string =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([name]) => !only || only.includes(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );

type Value = number | Sample[];
const asVector = (value: Value): Sample[] => (typeof value === "number" ? [{ labels: {}, value }] : value);

function timeFunction(fn: string, seconds: number): number {
  const date = new Date(seconds * 1000);
  if (fn === "minute") return date.getUTCMinutes();
  if (fn === "hour") return date.getUTCHours();
  if (fn === "day_of_month") return date.getUTCDate();
  if (fn === "day_of_week") return date.getUTCDay();
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  ">": (a, b) => a > b,
  "<": (a, b) => a < b,
  ">=": (a, b) => a >= b,
  "<=": (a, b) => a <= b,
};

/** Evaluates `node` at `ctx.at`: an instant vector (or a number for scalar expressions). */
export function evalPromql(node: Node, ctx: EvalContext): Value {
  switch (node.type) {
    case "number":
      return node.value;
    case "selector": {
      // Instant selector: the gauge's latest value at or before `at` (deltas: the last point's value).
      return ctx
        .series(node.metric)
        .filter((s) => matches(s.labels, node.matchers))
        .flatMap((s) => {
          const last = s.points.filter((p) => p.t <= ctx.at).at(-1);
          return last ? [{ labels: s.labels, value: last.v }] : [];
        });
    }
    case "call": {
      if (node.fn === "time") return ctx.at / 1000;
      if (node.fn === "vector") {
        const value = evalPromql(node.args[0] as Node, ctx);
        return [{ labels: {}, value: typeof value === "number" ? value : (value[0]?.value ?? 0) }];
      }
      if (node.fn === "increase") {
        const selector = node.args[0] as Extract<Node, { type: "selector" }>;
        const from = ctx.at - (selector.rangeMs as number);
        // A series counts once it has reported (Cloud Monitoring keeps it for the query's lookback).
        return ctx
          .series(selector.metric)
          .filter((s) => matches(s.labels, selector.matchers) && s.points.some((p) => p.t <= ctx.at))
          .map((s) => ({
            labels: s.labels,
            value: s.points.filter((p) => p.t > from && p.t <= ctx.at).reduce((sum, p) => sum + p.v, 0),
          }));
      }
      const arg = node.args[0]
        ? asVector(evalPromql(node.args[0], ctx))
        : [{ labels: {}, value: ctx.at / 1000 }];
      return arg.map((s) => ({ labels: {}, value: timeFunction(node.fn, s.value) }));
    }
    case "agg": {
      const groups = new Map<string, Sample[]>();
      for (const sample of asVector(evalPromql(node.expr, ctx))) {
        const id = key(sample.labels, node.by);
        groups.set(id, [...(groups.get(id) ?? []), sample]);
      }
      return [...groups.values()].map((samples) => {
        const values = samples.map((s) => s.value);
        const labels = Object.fromEntries(
          Object.entries((samples[0] as Sample).labels).filter(([name]) => node.by.includes(name)),
        );
        const value =
          node.op === "sum"
            ? values.reduce((a, b) => a + b, 0)
            : node.op === "count"
              ? values.length
              : Math[node.op as "max" | "min"](...values);
        return { labels, value };
      });
    }
    case "cmp": {
      const left = evalPromql(node.left, ctx);
      const right = evalPromql(node.right, ctx);
      if (typeof right !== "number") throw new Error("the sandbox compares only with a number");
      const test = COMPARE[node.op] as (a: number, b: number) => boolean;
      return asVector(left).filter((s) => test(s.value, right));
    }
    case "set": {
      const left = asVector(evalPromql(node.left, ctx));
      const right = asVector(evalPromql(node.right, ctx));
      const on = node.on ?? undefined;
      const rightKeys = new Set(right.map((s) => key(s.labels, on)));
      if (node.op === "and") return left.filter((s) => rightKeys.has(key(s.labels, on)));
      const leftKeys = new Set(left.map((s) => key(s.labels, on)));
      return [...left, ...right.filter((s) => !leftKeys.has(key(s.labels, on)))];
    }
  }
}
