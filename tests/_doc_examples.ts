/**
 * Finds the code examples in a file's JSDoc comments, the way `deno test
 * --doc` picks them: fenced blocks tagged as JavaScript or TypeScript (not
 * `ignore`) inside `/** ... *\/` comments.
 *
 * @module
 */

import { pathToFileURL } from "node:url";

/** One example: its lines in the source file and its code, imports made absolute. */
export interface DocExample {
  /** The line of the opening fence (1-based). */
  start: number;
  /** The line of the closing fence. */
  end: number;
  /** The example's code, with relative import specifiers resolved against the source file. */
  code: string;
}

const RUNNABLE = new Set(["js", "javascript", "mjs", "jsx", "ts", "typescript", "mts", "tsx"]);

/**
 * Extracts the runnable examples of one source file.
 *
 * @param source the file's text
 * @param path the file's absolute path, to resolve relative imports against
 * @returns the examples, in file order
 */
export function extractExamples(source: string, path: string): DocExample[] {
  const lines = source.split("\n");
  const out: DocExample[] = [];
  let inComment = false;
  let fence: { start: number; lang: string; body: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inComment) {
      if (/^\s*\/\*\*/.test(line) && !line.includes("*/")) inComment = true;
      continue;
    }
    if (/^\s*\*\//.test(line) || line.trimEnd().endsWith("*/")) {
      inComment = false;
      fence = undefined;
      continue;
    }
    const text = line.replace(/^\s*\* ?/, "");
    const open = /^```(\S*)(.*)$/.exec(text.trimEnd());
    if (!fence) {
      if (open) fence = { start: i + 1, lang: open[1], body: [] };
      continue;
    }
    if (text.trimEnd() === "```") {
      const attrs = fence.lang.split(",");
      if (RUNNABLE.has(attrs[0]) && !attrs.includes("ignore")) {
        out.push({ start: fence.start, end: i + 1, code: absoluteImports(fence.body.join("\n"), path) });
      }
      fence = undefined;
      continue;
    }
    fence.body.push(text);
  }
  return out;
}

/**
 * Rewrites the `./` and `../` specifiers of import and export statements to
 * file URLs relative to `path`, so the code runs from any folder. Only
 * statements at the start of a line are touched: examples often hold plugin
 * sources in strings, whose imports must stay as written.
 *
 * @param code the example's code
 * @param path the source file's absolute path
 * @returns the code with absolute specifiers
 */
export function absoluteImports(code: string, path: string): string {
  const base = pathToFileURL(path);
  return code.replace(
    /^(\s*(?:import|export|\})\b[^"'`\n]*?)(["'])(\.\.?\/[^"'\n]*)\2/gm,
    (_m, head, q, spec) => `${head}${q}${new URL(spec, base).href}${q}`,
  );
}
