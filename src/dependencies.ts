/**
 * Orders plugins so that each loads after what it depends on, and finds the
 * ones that cannot load: a missing dependency, a version outside the range,
 * a cycle, or a dependency that itself failed. Only the plugins involved fail.
 *
 * @module
 */

import { PluginError } from "./errors.ts";
// @ts-types="@types/semver"
import { satisfies } from "semver";

/** A plugin as the planner sees it. */
export interface DependencyNode {
  name: string;
  version: string;
  dependencies: Record<string, string>;
}

/** The planner's answer. */
export interface LoadPlan {
  /** Names in an order where dependencies come first. */
  order: string[];
  /** Plugins that cannot load, with why. */
  failures: Map<string, PluginError>;
}

/**
 * Plans the load order of a batch of plugins.
 *
 * @param batch the plugins to load now
 * @param loaded name → version of plugins already active
 * @returns the order and the failures
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planLoadOrder } from "./dependencies.ts";
 * const plan = planLoadOrder([
 *   { name: "tracker", version: "1.0.0", dependencies: { tasks: "^1.0.0" } },
 *   { name: "tasks", version: "1.2.0", dependencies: {} },
 * ], new Map());
 * assert.deepEqual(plan.order, ["tasks", "tracker"]);
 * ```
 */
export function planLoadOrder(batch: readonly DependencyNode[], loaded: ReadonlyMap<string, string>): LoadPlan {
  const nodes = new Map(batch.map((n) => [n.name, n]));
  const order: string[] = [];
  const failures = new Map<string, PluginError>();
  const state = new Map<string, "visiting" | "done">();
  const fail = (name: string, message: string) => {
    if (!failures.has(name)) {
      failures.set(name, new PluginError("DEPENDENCY", message, { plugin: name, stage: "load" }));
    }
  };

  const visit = (name: string, stack: string[]): void => {
    const seen = state.get(name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      for (const member of cycle) fail(member, `dependency cycle ${cycle.join(" → ")}`);
      return;
    }
    state.set(name, "visiting");
    const node = nodes.get(name)!;
    const path = [...stack, name];
    for (const [dep, range] of Object.entries(node.dependencies)) {
      const inBatch = nodes.get(dep);
      if (inBatch) {
        visit(dep, path);
        const depFailure = failures.get(dep);
        if (depFailure && !failures.has(name)) {
          fail(name, `its dependency "${dep}" cannot load (${[...path, dep].join(" → ")}): ${depFailure.reason}`);
        }
      }
      const version = inBatch?.version ?? loaded.get(dep);
      if (version === undefined) {
        fail(
          name,
          `it depends on "${dep}" (${range}), which is not loaded (${[...path, dep].join(" → ")}). ` +
            `Add the "${dep}" plugin or load it first`,
        );
      } else if (!satisfies(version, range)) {
        fail(name, `it depends on "${dep}" ${range}, but version ${version} is loaded`);
      }
    }
    state.set(name, "done");
    if (!failures.has(name)) order.push(name);
  };

  for (const node of batch) visit(node.name, []);
  return { order: order.filter((n) => !failures.has(n)), failures };
}

/**
 * The active plugins that depend on `name`, directly or not, in the order they
 * should unload (dependents of dependents first).
 *
 * @param name the plugin
 * @param active every active plugin
 * @returns dependents, deepest first
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DependencyNode, dependentsOf } from "./dependencies.ts";
 * const active: DependencyNode[] = [
 *   { name: "tasks", version: "1.0.0", dependencies: {} },
 *   { name: "tracker", version: "1.0.0", dependencies: { tasks: "*" } },
 *   { name: "report", version: "1.0.0", dependencies: { tracker: "*" } },
 * ];
 * assert.deepEqual(dependentsOf("tasks", active), ["report", "tracker"]);
 * ```
 */
export function dependentsOf(name: string, active: readonly DependencyNode[]): string[] {
  const out: string[] = [];
  const visit = (target: string) => {
    for (const n of active) {
      if (n.name in n.dependencies) continue;
      if (target in n.dependencies && !out.includes(n.name)) {
        visit(n.name);
        out.push(n.name);
      }
    }
  };
  visit(name);
  return out;
}
