/**
 * Where the threads of a round trip run, chosen rather than left to the
 * scheduler. A sequential round trip between the main thread and a worker
 * costs very different times when the two threads share a core (a switch on
 * one core) and when they do not (waking the other core): on the 2-core
 * virtual machine of these runs, the same echo worker measured 26-30 µs or
 * 43-46 µs a round trip depending on where the scheduler had put its thread,
 * and it kept that place for the life of the process. Measured side by side
 * unpinned, plugboard's worker and the floor's could land differently, and
 * the ratio between them moved between 1.2x and 2x from one process to the
 * next with no change of code. Pinned, both pay the same hand-off.
 *
 * Linux only, by `taskset` (util-linux) on each thread's id, listed by `ps`;
 * Deno names a worker's thread `worker-<n>`.
 *
 * @module
 */

/** Where the threads go: the main thread on core 0, the workers on core 1 ("cross") or on core 0 too ("same"). */
export type Placement = "cross" | "same";

/** Every thread of this process by id, with its name (by `ps`: Deno reads `/proc/self` only with --allow-all). */
async function threads(): Promise<{ tid: string; name: string }[]> {
  const out = await new Deno.Command("ps", { args: ["-T", "-p", String(Deno.pid), "-o", "tid=,comm="], stderr: "null" })
    .output();
  if (!out.success) throw new Error("ps failed");
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => {
    const [tid, ...name] = line.trim().split(/\s+/);
    return { tid, name: name.join(" ") };
  });
}

/** The cores the process was started with, read before the first pin (what unpinning gives back). */
let started: string | undefined;

async function affinity(tid: string): Promise<string | undefined> {
  const out = await new Deno.Command("taskset", { args: ["-pc", tid], stdout: "piped", stderr: "null" }).output();
  return out.success ? new TextDecoder().decode(out.stdout).trim().split(": ").pop() : undefined;
}

async function taskset(cpus: string, tid: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", { args: ["-pc", cpus, tid], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Pins the main thread and the workers' threads.
 *
 * @param placement where the workers go
 * @returns whether every pin took (false without `taskset`, `/proc` or a second core)
 */
export async function pinThreads(placement: Placement): Promise<boolean> {
  if (Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2) return false;
  try {
    started ??= await affinity(String(Deno.pid));
    if (started === undefined) return false;
    let ok = true;
    for (const { tid, name } of await threads()) {
      if (tid === String(Deno.pid)) ok = await taskset("0", tid) && ok;
      else if (name.startsWith("worker-")) ok = await taskset(placement === "cross" ? "1" : "0", tid) && ok;
    }
    return ok;
  } catch {
    return false;
  }
}

/** Lets every thread of this process run on the cores it started with again. */
export async function unpinThreads(): Promise<void> {
  if (started === undefined) return;
  try {
    for (const { tid } of await threads()) await taskset(started, tid);
  } catch {
    // Nothing was pinned (no ps).
  }
}
