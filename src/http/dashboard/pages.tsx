/** @jsxImportSource hono/jsx */
/**
 * The dashboard's pages, rendered on the server with Hono's JSX: the login
 * form, and the page of every plugin with its registrations and actions.
 * Every action is a plain form (it works without JavaScript); with htmx
 * loaded, it is posted in the background and the plugin list replaced.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { PluginInfo } from "../../plugin_info.ts";

/** What the page shows besides the plugins. */
export interface PageState {
  /** The session's CSRF token, put in every form and in htmx's headers. */
  csrf: string;
  /** Plugins whose debug lines are on, by name (`*` for all). */
  debug: string[];
}

/** A problem to show in place (problem+json fields). */
export interface ShownProblem {
  status: number;
  title?: string;
  detail?: string;
  code?: string;
}

function Layout(props: { title: string; csrf?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/admin/assets/dashboard.css" />
        {props.csrf ? <meta name="csrf-token" content={props.csrf} /> : null}
        {props.csrf ? <script src="/admin/assets/htmx.js" defer></script> : null}
        {props.csrf ? <script src="/admin/assets/dashboard.js" defer></script> : null}
      </head>
      <body hx-headers={props.csrf ? JSON.stringify({ "X-CSRF-Token": props.csrf }) : undefined}>
        {props.children}
      </body>
    </html>
  );
}

function ProblemBox(props: { problem?: ShownProblem }) {
  const p = props.problem;
  return (
    <div class="problem" role="alert" data-problem hidden={p ? undefined : true}>
      {p ? `${p.status} ${p.title ?? ""}${p.code ? ` (${p.code})` : ""}: ${p.detail ?? ""}` : ""}
    </div>
  );
}

/**
 * The login page.
 *
 * @param problem why the last attempt was refused
 * @returns the HTML document
 */
export function loginPage(problem?: ShownProblem): string {
  return "<!doctype html>" + String(
    <Layout title="plugboard: log in">
      <main class="login">
        <h1>plugboard</h1>
        <form method="post" action="/admin/login">
          <label>
            Admin key <input type="password" name="key" autocomplete="current-password" required autofocus />
          </label>
          <button type="submit">Log in</button>
          <ProblemBox problem={problem} />
        </form>
        <p class="hint">
          The key is <code>PLUGBOARD_API_KEY</code>, or without it the token in <code>.plugboard/admin-token</code>.
        </p>
      </main>
    </Layout>,
  );
}

function Action(
  props: { path: string; label: string; csrf: string; fields?: Record<string, string>; danger?: boolean },
) {
  return (
    <form method="post" action={props.path} hx-post={props.path} hx-target="#plugins" hx-swap="outerHTML">
      <input type="hidden" name="_csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <button type="submit" class={props.danger ? "danger" : undefined}>{props.label}</button>
    </form>
  );
}

function List(props: { items: string[] | undefined }) {
  const items = props.items ?? [];
  return items.length ? <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul> : <span class="none">none</span>;
}

const mb = (bytes: number | undefined) => bytes === undefined ? "n/a" : `${(bytes / 1048576).toFixed(1)} MB`;

function PluginCard(props: { info: PluginInfo; state: PageState }) {
  const p = props.info;
  const base = `/admin/plugins/${p.name}`;
  const csrf = props.state.csrf;
  const causes = Object.entries(p.restartCauses ?? {}).map(([c, n]) => `${c} ×${n}`).join(", ");
  const loc = p.lastError?.location;
  const extra = p as PluginInfo & { mcp?: unknown; sandbox?: unknown };
  return (
    <article class="plugin" id={`plugin-${p.name}`} data-name={p.name} data-state={p.state}>
      <header>
        <h3>{p.name}</h3>
        <span class={`state state-${p.state}`}>{p.state}</span>
        <span class="version">{p.version ?? "?"}</span>
        <span class="isolation">{p.isolation ?? ""}</span>
      </header>
      <dl>
        <dt>Source</dt>
        <dd class="source">{p.source}</dd>
        <dt>Permissions</dt>
        <dd>{JSON.stringify(p.permissions ?? {})}</dd>
        {p.pendingPermissions ? <dt>Pending permissions</dt> : null}
        {p.pendingPermissions ? <dd class="pending">{JSON.stringify(p.pendingPermissions)}</dd> : null}
        <dt>Load</dt>
        <dd>
          {`import ${p.timings.importMs ?? "-"} ms, setup ${p.timings.setupMs ?? "-"} ms, total ${
            p.timings.totalMs ?? "-"
          } ms`}
          {p.loadedAt ? ` (since ${p.loadedAt})` : ""}
        </dd>
        <dt>Reloads</dt>
        <dd class="reloads" data-reloads={String(p.reloads)}>{String(p.reloads)}</dd>
        <dt>Restarts</dt>
        <dd class="restarts">{`${p.restarts}${causes ? ` (${causes})` : ""}`}</dd>
        <dt>Memory</dt>
        <dd>{mb(p.memoryBytes)}</dd>
        <dt>Timers</dt>
        <dd class="timers">{p.timers === undefined ? "n/a" : String(p.timers)}</dd>
        <dt>Storage</dt>
        <dd>{p.storageBytes === undefined ? "n/a" : `${p.storageBytes} bytes`}</dd>
        <dt>Failures</dt>
        <dd>{String(p.failures)}</dd>
        {p.lastError ? <dt>Last error</dt> : null}
        {p.lastError
          ? (
            <dd class="last-error">
              {`${p.lastError.origin}: ${p.lastError.message}`}
              {loc ? <code>{` ${loc.file}:${loc.line}:${loc.column}`}</code> : null}
            </dd>
          )
          : null}
        <dt>Routes</dt>
        <dd>
          <List items={p.routes} />
        </dd>
        <dt>Listeners</dt>
        <dd>
          <List items={p.listeners} />
        </dd>
        <dt>Services</dt>
        <dd>
          <List items={p.services} />
        </dd>
        <dt>Hooks</dt>
        <dd>
          <List
            items={[
              ...(p.hooks?.defines ?? []).map((h) => `defines ${h}`),
              ...(p.hooks?.wraps ?? []).map((h) => `wraps ${h}`),
            ]}
          />
        </dd>
        <dt>Middleware</dt>
        <dd>{`${p.middleware ?? 0} middleware, ${p.responseObservers ?? 0} response observers`}</dd>
        {extra.mcp !== undefined ? <dt>MCP tools</dt> : null}
        {extra.mcp !== undefined ? <dd>{JSON.stringify(extra.mcp)}</dd> : null}
      </dl>
      <img class="chart" src={`${base}/chart.svg`} alt={`Requests, errors and latency of ${p.name}`} />
      <div class="actions">
        {p.state === "active" ? <Action path={`${base}/reload`} label="Reload" csrf={csrf} /> : null}
        {p.state === "active" ? <Action path={`${base}/unload`} label="Unload" csrf={csrf} danger /> : null}
        {p.state === "active"
          ? (
            <Action
              path={`${base}/unload`}
              label="Unload with dependents"
              csrf={csrf}
              fields={{ cascade: "true" }}
              danger
            />
          )
          : null}
        {p.state === "active" ? <Action path={`${base}/disable`} label="Disable" csrf={csrf} /> : null}
        {p.state !== "active" ? <Action path={`${base}/enable`} label="Enable" csrf={csrf} /> : null}
        {p.pendingPermissions ? <Action path={`${base}/approve`} label="Approve" csrf={csrf} /> : null}
        {/^https?:/.test(p.source) ? <Action path={`${base}/update`} label="Check update" csrf={csrf} /> : null}
        {/^https?:/.test(p.source)
          ? <Action path={`${base}/update`} label="Apply update" csrf={csrf} fields={{ apply: "true" }} />
          : null}
        <Action
          path={`${base}/debug`}
          label={p.debug ? "Debug off" : "Debug on"}
          csrf={csrf}
          fields={{ on: p.debug ? "false" : "true" }}
        />
      </div>
      <ProblemBox />
    </article>
  );
}

/**
 * The plugin list, alone: what an action answers to htmx.
 *
 * @param plugins every plugin's info, described
 * @param state the CSRF token and debug switches
 * @param note a line to show above the list (such as an update's changes)
 * @returns the HTML fragment
 */
export function pluginsFragment(plugins: PluginInfo[], state: PageState, note?: string): string {
  return String(<Plugins plugins={plugins} state={state} note={note} />);
}

function Plugins(props: { plugins: PluginInfo[]; state: PageState; note?: string }) {
  return (
    <section id="plugins">
      <h2>{`Plugins (${props.plugins.length})`}</h2>
      {props.note ? <pre class="note">{props.note}</pre> : null}
      {props.plugins.map((info) => <PluginCard key={info.name} info={info} state={props.state} />)}
    </section>
  );
}

/**
 * The dashboard.
 *
 * @param plugins every plugin's info, described
 * @param state the CSRF token and debug switches
 * @param problem a refused action to show (without JavaScript)
 * @param note what an action answered, shown above the list (without JavaScript: an update's changes)
 * @returns the HTML document
 */
export function dashboardPage(plugins: PluginInfo[], state: PageState, problem?: ShownProblem, note?: string): string {
  const counts: Record<string, number> = {};
  for (const p of plugins) counts[p.state] = (counts[p.state] ?? 0) + 1;
  return "<!doctype html>" + String(
    <Layout title="plugboard" csrf={state.csrf}>
      <header class="top">
        <h1>plugboard</h1>
        <span class="counts">{Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(" · ")}</span>
        <a href="/metrics">metrics</a>
        <form method="post" action="/admin/logout">
          <input type="hidden" name="_csrf" value={state.csrf} />
          <button type="submit">Log out</button>
        </form>
      </header>
      <main>
        <section id="load">
          <form
            method="post"
            action="/admin/load"
            hx-post="/admin/load"
            hx-target="#plugins"
            hx-swap="outerHTML"
          >
            <input type="hidden" name="_csrf" value={state.csrf} />
            <label>
              Load a plugin <input type="text" name="source" placeholder="./plugins/hello or https://..." required />
            </label>
            <button type="submit">Load</button>
            <ProblemBox problem={problem} />
          </form>
          <p class="debug">{`Debug on for: ${state.debug.length ? state.debug.join(", ") : "none"}`}</p>
        </section>
        <section id="live">
          <h2>Live events</h2>
          <ol id="live-events" aria-live="polite"></ol>
          <noscript>Live events need JavaScript; GET /api/events streams them too.</noscript>
        </section>
        <Plugins plugins={plugins} state={state} note={note} />
      </main>
    </Layout>,
  );
}
