/**
 * What a worker knows of the host's other plugins: their services and hooks,
 * by name (sent by the host, kept current).
 *
 * @module
 */

/** What the host shares about the others: services and hooks, by name. */
export interface HostDirectory {
  /** Service name → owner. */
  services: Record<string, string>;
  /** Defined hook names. */
  hooks: string[];
}
