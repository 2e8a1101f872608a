/**
 * Inside a plugin's worker: stand-ins for the host's shared tables. The
 * plugin's context is built on them exactly as in-process, and each one
 * forwards to the host over the channel: a listener becomes a host-side
 * listener that calls back, a provided service a host-side async proxy, a
 * mounted router a host-side router that forwards requests, and so on.
 *
 * @module
 */

export type { HostDirectory } from "./worker_directory.ts";
export { WorkerBus } from "./worker_bus.ts";
export { WorkerContainer } from "./worker_container.ts";
export { WorkerHooks } from "./worker_hooks.ts";
export { type RouteSpec, WorkerRouteTable } from "./worker_routes.ts";
