// Pictures: the severity bar of a scan overview and a project's vulnerability chart, drawn as SVG
// (attributes only, so the Content-Security-Policy's style rules are never in the way).

import { h, svg } from "./dom.js";

export const SEVERITIES = ["Critical", "High", "Medium", "Low", "Unknown", "None"];
const COLORS = { Critical: "#8b0000", High: "#d93025", Medium: "#f29900", Low: "#f6c343", Unknown: "#8c959f", None: "#2e7d32" };

// The artifact's overview under whatever report type it was asked in (there is one).
export const overviewOf = (artifact) => Object.values(artifact.scan_overview || {})[0];

export function countsOf(overview) {
  return (overview && overview.summary && overview.summary.summary) || {};
}

// What the artifact list shows in its Vulnerabilities column.
export function severityBar(overview) {
  if (!overview) return h("span", { class: "muted", "data-scan": "none" }, "Not scanned");
  const status = overview.scan_status;
  if (status !== "Success") {
    const words = { Pending: "Queued", Running: "Scanning…", Scheduled: "Queued", Error: "Scan failed", Stopped: "Scan stopped" };
    return h("span", { class: status === "Error" ? "error" : "muted", "data-scan": status }, words[status] || status);
  }
  const counts = countsOf(overview);
  const total = overview.summary.total || 0;
  if (!total) return h("span", { class: "clean", "data-scan": "Success", "data-total": "0" }, "No vulnerabilities");
  const width = 160;
  let x = 0;
  const parts = [];
  for (const severity of SEVERITIES) {
    const count = counts[severity] || 0;
    if (!count) continue;
    const part = (count / total) * width;
    parts.push(svg("rect", { x: x.toFixed(2), y: 0, width: part.toFixed(2), height: 12, fill: COLORS[severity], "data-severity": severity },
      svg("title", {}, `${severity}: ${count}`)));
    x += part;
  }
  const words = SEVERITIES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ");
  return h("span", { class: "severity", "data-scan": "Success", "data-total": String(total) },
    svg("svg", { width, height: 12, role: "img", "aria-label": words, class: "severity-bar" }, ...parts),
    h("span", { class: "legend" }, `${total} total · ${overview.summary.fixable || 0} fixable · ${overview.severity}`));
}

// Horizontal bars with their numbers: [[label, value, color?], ...].
export function barChart(title, rows) {
  const max = Math.max(1, ...rows.map(([, value]) => value));
  const rowHeight = 22;
  const labelWidth = 180;
  const barWidth = 260;
  const height = rows.length * rowHeight + 4;
  const chart = svg("svg", { viewBox: `0 0 ${labelWidth + barWidth + 60} ${height}`, role: "img", "aria-label": title, class: "chart" },
    ...rows.flatMap(([label, value, color], index) => {
      const y = index * rowHeight + 2;
      const text = label.length > 26 ? `${label.slice(0, 25)}…` : label;
      return [
        svg("text", { x: labelWidth - 6, y: y + 14, "text-anchor": "end" }, text),
        svg("rect", { x: labelWidth, y: y + 3, width: (value / max) * barWidth, height: 14, fill: color || "#1b6ac9" },
          svg("title", {}, `${label}: ${value}`)),
        svg("text", { x: labelWidth + (value / max) * barWidth + 6, y: y + 14 }, String(value)),
      ];
    }));
  return h("figure", { class: "figure" }, h("figcaption", {}, title), chart);
}

export const severityChart = (title, counts) =>
  barChart(title, SEVERITIES.map((s) => [s, counts[s] || 0, COLORS[s]]));
