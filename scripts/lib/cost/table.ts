/** The estimate as the table `npm run cost` prints: one line per charge, the totals, then what was assumed. */
import { round2, type CostCategory, type CostEstimate } from "./model";

/** The table an operator reads: one line per charge, the total, then what was assumed. */
export function formatCostTable(estimate: CostEstimate, title: string): string {
  const header = ["stack", "item", "basis", "$/month"];
  const rows = estimate.lines.map((l) => [l.stack, l.item, l.basis, l.monthly.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const render = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const without = ["network", "bastion"].reduce((t, c) => t - (estimate.byCategory[c as CostCategory] ?? 0), estimate.total);
  const out = [
    `${title}: monthly estimate, ${estimate.region}${estimate.approximate ? " (APPROXIMATE)" : ""}, on-demand prices of ${estimate.pricesAsOf}`,
    "",
    render(header),
    rule,
    ...rows.map(render),
    rule,
    render(["", "total", "", estimate.total.toFixed(2)]),
    render(["", "  without network (NAT, IPs, flow logs) and bastion", "", round2(without).toFixed(2)]),
    "",
    ...estimate.notes.map((n) => `note: ${n}`),
  ];
  return out.join("\n");
}
