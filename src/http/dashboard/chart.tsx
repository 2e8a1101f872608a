/** @jsxImportSource hono/jsx */
/**
 * A plugin's requests, errors and latency over the last minutes as an SVG
 * drawn on the server: one bar per time bucket (its height the requests,
 * the red part the server errors) and a line for the mean latency.
 *
 * @module
 */

import type { ActivityBucket } from "../../metrics/activity.ts";

const WIDTH = 300;
const HEIGHT = 80;
const TOP = 12;

/**
 * Draws the chart.
 *
 * @param name the plugin (for the title)
 * @param series the buckets, oldest first
 * @param bucketMs the width of a bucket, in ms
 * @returns the SVG document
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activityChart } from "./chart.tsx";
 * const svg = activityChart("hello", [{ start: 0, requests: 4, errors: 1, totalMs: 8, maxMs: 3 }], 10_000);
 * assert.match(svg, /^<svg/);
 * assert.match(svg, /4 requests, 1 errors/);
 * ```
 */
export function activityChart(name: string, series: ActivityBucket[], bucketMs: number): string {
  const n = Math.max(series.length, 1);
  const slot = WIDTH / n;
  const maxRequests = Math.max(1, ...series.map((b) => b.requests));
  const means = series.map((b) => b.requests ? b.totalMs / b.requests : 0);
  const maxMean = Math.max(1, ...means);
  const scale = (v: number, max: number) => (HEIGHT - TOP) * v / max;
  const total = series.reduce((t, b) => t + b.requests, 0);
  const errors = series.reduce((t, b) => t + b.errors, 0);
  const minutes = Math.round(n * bucketMs / 60_000);
  const points = means.map((m, i) => `${(i + 0.5) * slot},${HEIGHT - scale(m, maxMean)}`).join(" ");
  const title = `${name}: ${total} requests, ${errors} errors in the last ${minutes} min; mean latency up to ${
    Math.round(maxMean)
  } ms`;
  const svg = (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      role="img"
      aria-label={title}
    >
      <title>{title}</title>
      <rect x="0" y="0" width={WIDTH} height={HEIGHT} fill="#f7f7f9" />
      {series.map((b, i) => (
        <g key={b.start}>
          <rect
            x={i * slot + 1}
            y={HEIGHT - scale(b.requests, maxRequests)}
            width={Math.max(1, slot - 2)}
            height={scale(b.requests, maxRequests)}
            fill="#6b8fc7"
          />
          <rect
            x={i * slot + 1}
            y={HEIGHT - scale(b.errors, maxRequests)}
            width={Math.max(1, slot - 2)}
            height={scale(b.errors, maxRequests)}
            fill="#d9534f"
          />
        </g>
      ))}
      <polyline points={points} fill="none" stroke="#e69500" stroke-width="1.5" />
      <text x="2" y="10" font-size="9" fill="#333">
        {`max ${maxRequests} req / ${Math.round(bucketMs / 1000)} s · latency up to ${Math.round(maxMean)} ms`}
      </text>
    </svg>
  );
  return String(svg);
}
