/**
 * The task domain: the shape of a task and the rules of its states.
 *
 * @module
 */

import { z } from "zod";

/** What a client sends to create a task. */
export const newTaskSchema = z.object({
  title: z.string().trim().min(1, "title must not be empty").max(500),
  agentId: z.string().min(1).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** A task's input. */
export type NewTask = z.infer<typeof newTaskSchema>;

/** Where a task is. */
export type TaskStatus = "pending" | "running" | "completed" | "failed";

/** A task. */
export interface Task {
  id: string;
  title: string;
  agentId: string;
  data: Record<string, unknown>;
  status: TaskStatus;
  result?: unknown;
  /** Why it failed; `"interrupted"` when its process stopped before it finished. */
  error?: string;
  /** The process (and plugin version) that runs it; unset on tasks stored before runners existed. */
  runner?: string;
  createdAt: string;
  updatedAt: string;
}

/** The `tasks` service other plugins resolve. */
export interface TasksService {
  /** Creates a task and starts it; resolves once it is stored (not finished). */
  create(input: NewTask): Task;
  /** Creates a task and waits until it completed or failed. */
  run(input: NewTask): Promise<Task>;
  get(id: string): Task | undefined;
  list(): Task[];
}
