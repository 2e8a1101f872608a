/**
 * What a worker knows of the host's other plugins: their services and hooks,
 * by name (sent by the host, kept current).
 *
 * @module
 */

import type { HostPorts } from "./runtime.ts";

/** What the host shares about the others: services and hooks, by name. */
export interface HostDirectory {
  /** Service name → owner. */
  services: Record<string, string>;
  /** Defined hook names. */
  hooks: string[];
}

/**
 * The services and hooks the host has now, for a worker's `has()` and `resolve()`.
 *
 * @param ports the host's tables
 * @returns service name → owner, and hook names
 */
export function directoryOf(ports: HostPorts): HostDirectory {
  const services: Record<string, string> = {};
  for (const name of ports.services.names()) services[name] = ports.services.owner(name) ?? "host";
  return { services, hooks: ports.hooks.names().filter((n) => ports.hooks.has(n)) };
}
