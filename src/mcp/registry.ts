/**
 * The host's one table of MCP tools, resources and prompts, whoever
 * registered them and however they run. Sessions read it on every list and
 * call, so a list never waits on a plugin; changes are announced once per
 * burst (everything a reload swaps in one synchronous step is one change),
 * and only for the kinds whose list really changed.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import { isTemplate, MCP_NAME_RE, NAME_SEPARATOR, RESOURCE_SCHEME } from "./names.ts";
import type { McpEntry, McpKind, McpPort, PromptDescriptor, ResourceDescriptor, ToolDescriptor } from "./port.ts";

/** The largest descriptor (schemas included) the table takes, as JSON characters. */
export const MAX_DESCRIPTOR_CHARS = 64 * 1024;
/** Tools, resources and prompts one plugin may have live at once: every client lists them all. */
export const MAX_ENTRIES_PER_PLUGIN = 100;
/** Characters of descriptors one plugin may have live at once, all kinds together. */
export const MAX_PLUGIN_CHARS = 1024 * 1024;

/** One live entry and its plugin. */
export interface McpRecord<E extends McpEntry = McpEntry> {
  readonly owner: string;
  readonly entry: E;
  /** Filled by whoever checks the entry's arguments (compiled once). */
  check?: (value: unknown) => string | undefined;
}

type Of<K extends McpKind> = Extract<McpEntry, { kind: K }>;

/** What one plugin has in the table, by kind. */
export interface McpListing {
  tools: string[];
  resources: string[];
  prompts: string[];
}

/**
 * The host's MCP table.
 *
 * @example A tool added and removed, one change each
 * ```ts
 * import assert from "node:assert/strict";
 * import { McpRegistry } from "./registry.ts";
 * const table = new McpRegistry();
 * const changes: string[][] = [];
 * table.onChange((kinds) => changes.push([...kinds]));
 * const remove = table.add("hello", {
 *   kind: "tool",
 *   descriptor: { name: "hello__greet", description: "Greets", inputSchema: { type: "object" } },
 *   run: () => Promise.resolve({ content: [] }),
 * });
 * await Promise.resolve();
 * assert.deepEqual(table.tools().map((t) => t.name), ["hello__greet"]);
 * remove();
 * await Promise.resolve();
 * assert.deepEqual(changes, [["tool"], ["tool"]]);
 * ```
 */
export class McpRegistry implements McpPort {
  #tables: { [K in McpKind]: Map<string, McpRecord<Of<K>>> } = {
    tool: new Map(),
    resource: new Map(),
    prompt: new Map(),
  };
  #listeners = new Set<(kinds: ReadonlySet<McpKind>) => void>();
  #pending = new Set<McpKind>();
  /** What each plugin has live: entries and descriptor characters. */
  #usage = new Map<string, { entries: number; chars: number }>();
  #shown: Record<McpKind, string> = { tool: "[]", resource: "[]", prompt: "[]" };

  /**
   * Makes an entry live. The descriptor is checked here too: a worker is not
   * trusted to have checked it.
   *
   * @param owner the plugin
   * @param entry the entry
   * @returns what removes it (only it: a later entry under the same name stays)
   * @throws {PluginError} `INVALID_PLUGIN` for a name outside the plugin's prefix, `CONFLICT` for a taken one
   */
  add(owner: string, entry: McpEntry): () => void {
    const [key, chars] = this.#check(owner, entry);
    const used = this.#usage.get(owner) ?? { entries: 0, chars: 0 };
    if (used.entries + 1 > MAX_ENTRIES_PER_PLUGIN || used.chars + chars > MAX_PLUGIN_CHARS) {
      throw new PluginError(
        "INVALID_PLUGIN",
        `its MCP ${entry.kind} "${key}" is one too many: a plugin may have ${MAX_ENTRIES_PER_PLUGIN} tools, resources ` +
          `and prompts, described in ${MAX_PLUGIN_CHARS} characters in all (every client lists them)`,
        { plugin: owner },
      );
    }
    const table = this.#tables[entry.kind] as Map<string, McpRecord>;
    const held = table.get(key);
    if (held) {
      throw new PluginError("CONFLICT", `its MCP ${entry.kind} "${key}" is already registered by "${held.owner}"`, {
        plugin: owner,
      });
    }
    const record: McpRecord = { owner, entry };
    table.set(key, record);
    this.#usage.set(owner, { entries: used.entries + 1, chars: used.chars + chars });
    this.#changed(entry.kind);
    return () => {
      if (table.get(key) !== record) return;
      table.delete(key);
      const now = this.#usage.get(owner)!;
      if (now.entries <= 1) this.#usage.delete(owner);
      else this.#usage.set(owner, { entries: now.entries - 1, chars: now.chars - chars });
      this.#changed(entry.kind);
    };
  }

  /**
   * Calls `fn` after each burst of changes with the kinds whose lists changed.
   *
   * @param fn the listener
   * @returns what removes it
   */
  onChange(fn: (kinds: ReadonlySet<McpKind>) => void): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  /** @returns every tool, sorted by name */
  tools(): ToolDescriptor[] {
    return this.#sorted("tool").map((r) => r.entry.descriptor);
  }

  /** @returns every resource that is not a template, sorted by URI */
  resources(): ResourceDescriptor[] {
    return this.#sorted("resource").map((r) => r.entry.descriptor).filter((d) => !isTemplate(d.uri));
  }

  /** @returns every resource template, sorted by URI */
  templates(): ResourceDescriptor[] {
    return this.#sorted("resource").map((r) => r.entry.descriptor).filter((d) => isTemplate(d.uri));
  }

  /** @returns every prompt, sorted by name */
  prompts(): PromptDescriptor[] {
    return this.#sorted("prompt").map((r) => r.entry.descriptor);
  }

  /**
   * One live entry.
   *
   * @param kind its kind
   * @param key its name (a resource's: its URI or template)
   * @returns the record, or undefined
   */
  get<K extends McpKind>(kind: K, key: string): McpRecord<Of<K>> | undefined {
    return this.#tables[kind].get(key) as McpRecord<Of<K>> | undefined;
  }

  /** @returns every resource template record, sorted by URI */
  templateRecords(): McpRecord<Of<"resource">>[] {
    return this.#sorted("resource").filter((r) => isTemplate(r.entry.descriptor.uri));
  }

  /**
   * What one plugin has in the table.
   *
   * @param owner the plugin
   * @returns its tool and prompt names and resource URIs, each sorted
   */
  listing(owner: string): McpListing {
    const of = (kind: McpKind) =>
      [...this.#tables[kind].entries()].filter(([, r]) => r.owner === owner).map(([k]) => k).sort();
    return { tools: of("tool"), resources: of("resource"), prompts: of("prompt") };
  }

  #sorted<K extends McpKind>(kind: K): McpRecord<Of<K>>[] {
    const table = this.#tables[kind];
    return [...table.keys()].sort().map((k) => table.get(k)!);
  }

  /** Checks an entry; its key in its table, and its descriptor's size in characters. */
  #check(owner: string, entry: McpEntry): [string, number] {
    const d = entry?.descriptor as unknown as Record<string, unknown> | undefined;
    const refuse = (why: string) =>
      new PluginError("INVALID_PLUGIN", `its MCP ${entry?.kind} ${why}`, { plugin: owner });
    if (!d || !["tool", "resource", "prompt"].includes(entry.kind) || typeof entry.run !== "function") {
      throw refuse("registration is malformed");
    }
    const name = d.name;
    if (typeof name !== "string" || !MCP_NAME_RE.test(name) || !name.startsWith(`${owner}${NAME_SEPARATOR}`)) {
      throw refuse(`name ${JSON.stringify(name)} must be "${owner}__<name>" in letters, digits, "_" and "-"`);
    }
    const chars = JSON.stringify(d).length;
    if (chars > MAX_DESCRIPTOR_CHARS) {
      throw refuse(`"${name}" is described in more than ${MAX_DESCRIPTOR_CHARS} characters: shorten its schemas`);
    }
    if (entry.kind === "resource") {
      const uri = d.uri;
      if (typeof uri !== "string" || !uri.startsWith(`${RESOURCE_SCHEME}//${owner}/`)) {
        throw refuse(`URI ${JSON.stringify(uri)} must be under ${RESOURCE_SCHEME}//${owner}/`);
      }
      return [uri, chars];
    }
    const schema = entry.kind === "tool" ? d.inputSchema : d.argsSchema;
    if (typeof schema !== "object" || schema === null || (schema as { type?: unknown }).type !== "object") {
      throw refuse(`"${name}" must take an object schema`);
    }
    return [name, chars];
  }

  #changed(kind: McpKind): void {
    if (this.#pending.size === 0) queueMicrotask(() => this.#announce());
    this.#pending.add(kind);
  }

  #announce(): void {
    const changed = new Set<McpKind>();
    for (const kind of this.#pending) {
      const shown = JSON.stringify(this.#sorted(kind).map((r) => r.entry.descriptor));
      if (shown !== this.#shown[kind]) changed.add(kind);
      this.#shown[kind] = shown;
    }
    this.#pending.clear();
    if (changed.size === 0) return;
    for (const fn of [...this.#listeners]) {
      try {
        fn(changed);
      } catch {
        // A session that cannot be told is closed by its own transport; the others are still told.
      }
    }
  }
}
