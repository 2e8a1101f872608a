/**
 * The host's observability endpoints: `GET /metrics` (guarded like the admin
 * API unless `publicMetrics`), and the dashboard under `/admin` (`/`
 * redirects there). The dashboard logs in with the admin key and then works
 * from a session cookie; every action carries the session's CSRF token and
 * passes the admin API's checks (loopback, `Host` and `Origin` without a
 * key), then calls the same admin operations as the API.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { adminGuard, type HostEnv, keyId } from "../auth.ts";
import type { HttpPorts } from "../ports.ts";
import { codeProblem, errorProblem, problem } from "../problem.ts";
import { ASSETS } from "./assets.ts";
import { activityChart } from "./chart.tsx";
import { LoginThrottle } from "./login_throttle.ts";
import { dashboardPage, loginPage, type PageState, pluginsFragment, type ShownProblem } from "./pages.tsx";
import { type Session, sessionCookie, sessionIdOf, Sessions } from "./session.ts";
import { readForm } from "./form.ts";

/** The largest dashboard form read, in bytes. */
const MAX_FORM_BYTES = 64 * 1024;

type Action = (name: string, form: Record<string, string>) => Promise<string | undefined>;

/**
 * Adds `/metrics`, `/` and `/admin/...` to the host's app.
 *
 * @param app the host's own app
 * @param ports the HTTP ports (with `observability`)
 * @param guard the admin API's guard
 */
export function mountObservability(app: Hono<HostEnv>, ports: HttpPorts, guard: MiddlewareHandler<HostEnv>): void {
  const obs = ports.observability!;
  const admin = ports.admin;
  const log = ports.log;
  const guardOptions = { key: ports.apiKey, local: ports.localAdmin ?? false, allowedHosts: ports.allowedHosts ?? [] };
  // Scrapes are not audited one by one (every 15 s); refusals are.
  const quietGuard = adminGuard({ ...guardOptions, audit: (line, refused) => refused && log.warn(line) });
  const metrics = obs.metrics;
  if (metrics) {
    app.get(
      "/metrics",
      obs.settings.publicMetrics ? (_c, next) => next() : quietGuard,
      async () => new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } }),
    );
  }
  if (!obs.settings.dashboard) return;
  void guard;
  const sessions = new Sessions();
  // The admin API's own checks (loopback, Host, Origin without a key) run on every dashboard request, the key
  // coming from the session instead of a header.
  const probe = new Hono<HostEnv>();
  probe.use(adminGuard(guardOptions));
  probe.all("*", () => new Response(null, { status: 204 }));
  const refusedAs = async (c: Context<HostEnv>, key: string): Promise<Response | undefined> => {
    const headers = new Headers(c.req.raw.headers);
    headers.delete("authorization");
    headers.set("x-api-key", key);
    const res = await probe.fetch(new Request(c.req.url, { method: "GET", headers }), c.env);
    return res.status === 204 ? undefined : res;
  };
  const throttle = new LoginThrottle();
  const client = (c: Context<HostEnv>) => {
    const addr = c.env?.info?.remoteAddr;
    return addr && "hostname" in addr ? addr.hostname : "unknown";
  };
  // Over TLS, or always when the operator says a proxy in front terminates it.
  const secure = (c: Context<HostEnv>) =>
    obs.settings.secureCookie === "always" || new URL(c.req.url).protocol === "https:";
  const sessionOf = (c: Context<HostEnv>) => sessions.get(sessionIdOf(c.req.header("cookie")));
  const described = () => Promise.all(admin.list().map((info) => obs.describe(info)));
  const pageState = (s: Session): PageState => ({ csrf: s.csrf, debug: log.debugSwitch.names });
  const html = (body: string, status = 200) =>
    new Response(body, {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        // Never in a frame (clickjacking from another page, a plugin's on this origin included).
        "x-frame-options": "DENY",
        "content-security-policy": "frame-ancestors 'none'",
      },
    });
  const needSession = () =>
    codeProblem("UNAUTHORIZED", "The dashboard needs a session: log in at /admin with the admin key");

  /** The session of a reading request, or the answer refusing it. */
  const reader = async (c: Context<HostEnv>): Promise<Session | Response> => {
    const s = sessionOf(c);
    if (!s) return needSession();
    return await refusedAs(c, ports.apiKey) ?? s;
  };

  app.get("/", (c) => c.redirect("/admin", 302));
  app.get("/admin/assets/:file", (c) => {
    const asset = ASSETS[c.req.param("file")];
    if (!asset) return problem(404, { title: "Not Found", detail: `No asset ${c.req.path}` });
    return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "max-age=3600" } });
  });

  app.get("/admin", async (c) => {
    const s = sessionOf(c);
    if (!s) return html(loginPage());
    const refused = await refusedAs(c, ports.apiKey);
    if (refused) return refused;
    return html(dashboardPage(await described(), pageState(s)));
  });

  app.post("/admin/login", async (c) => {
    const form = await readForm(c.req.raw, MAX_FORM_BYTES);
    if (form instanceof Response) return form;
    const wait = throttle.heldOff(client(c));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      const detail = `Too many refused logins from this address: try again in ${seconds} s`;
      const page = html(loginPage({ status: 429, title: "Too Many Requests", detail }), 429);
      page.headers.set("retry-after", String(seconds));
      return page;
    }
    const refused = await refusedAs(c, form.key ?? "");
    if (refused) {
      throttle.failed(client(c));
      log.warn(`Admin dashboard login refused with ${refused.status} (client ${client(c)})`);
      const body = await refused.json().catch(() => ({})) as ShownProblem;
      return html(loginPage({ ...body, status: refused.status }), refused.status);
    }
    throttle.succeeded(client(c));
    const s = sessions.create();
    log.info(`Admin dashboard login (session ${s.id.slice(0, 8)}, key ${keyId(ports.apiKey)}, client ${client(c)})`);
    return new Response(null, {
      status: 303,
      headers: { location: "/admin", "set-cookie": sessionCookie(s, secure(c)) },
    });
  });

  app.get("/admin/fragment", async (c) => {
    const s = await reader(c);
    if (s instanceof Response) return s;
    return html(pluginsFragment(await described(), pageState(s)));
  });

  app.get("/admin/events", async (c) => {
    const s = await reader(c);
    if (s instanceof Response) return s;
    return new Response(obs.streams.open({ payloads: true, named: false }), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  });

  app.get("/admin/plugins/:name/chart.svg", async (c) => {
    const s = await reader(c);
    if (s instanceof Response) return s;
    const name = c.req.param("name");
    return new Response(activityChart(name, obs.activity.series(name), obs.activity.bucketMs), {
      headers: { "content-type": "image/svg+xml", "cache-control": "no-store" },
    });
  });

  const sourceOf = (name: string) => {
    const info = admin.get(name);
    if (!info) throw problemError(404, `No plugin "${name}"`);
    return info.source;
  };
  const actions: Record<string, Action> = {
    reload: async (n) => void await admin.reload(n),
    unload: async (n, f) => void await admin.unload(n, { cascade: f.cascade === "true" }),
    disable: async (n) => void await admin.unload(n, {}),
    enable: async (n) => void await admin.load(sourceOf(n)),
    approve: async (n) => void await admin.approve(n),
    update: async (n, f) => JSON.stringify(await admin.update(n, { apply: f.apply === "true" }), null, 2),
    debug: (n, f) => Promise.resolve(void log.debugSwitch.set(n, f.on === "true")),
  };

  /** Runs one dashboard action: session, CSRF token, the admin API's checks, then the operation. */
  const act = async (c: Context<HostEnv>, what: string, run: (form: Record<string, string>) => Promise<unknown>) => {
    const s = sessionOf(c);
    const htmx = c.req.header("hx-request") === "true";
    const form = await readForm(c.req.raw, MAX_FORM_BYTES);
    let answer: Response | undefined;
    let note: string | undefined;
    if (form instanceof Response) answer = form;
    else if (!s) answer = needSession();
    else if (!sessions.checkCsrf(s, form._csrf ?? c.req.header("x-csrf-token"))) {
      answer = codeProblem(
        "FORBIDDEN",
        "The action's CSRF token is missing or stale: reload the dashboard and try again",
      );
    } else answer = await refusedAs(c, ports.apiKey);
    const refused = answer !== undefined;
    if (!answer && !(form instanceof Response)) {
      try {
        const out = await run(form);
        if (typeof out === "string") note = out;
      } catch (error) {
        answer = error instanceof ProblemError ? error.response : errorProblem(error);
      }
    }
    const status = answer?.status ?? 200;
    const who = s ? `session ${s.id.slice(0, 8)}` : "no session";
    const line = `Admin dashboard ${what} answered ${status} (${who}, client ${client(c)})`;
    if (status >= 400) log.warn(line);
    else log.info(line);
    // A refused request (no session, bad token, not local) gets the bare problem; a failed operation is shown in
    // place: by the page's script for htmx, in the page itself without JavaScript.
    if (answer && (htmx || refused)) return answer;
    if (answer) {
      const body = await answer.json().catch(() => ({})) as ShownProblem;
      return html(dashboardPage(await described(), pageState(s!), { ...body, status }), status);
    }
    // Without JavaScript: back to the dashboard, or, when the action answered something to read (an update's
    // changes), the dashboard with it.
    if (!htmx && note !== undefined) return html(dashboardPage(await described(), pageState(s!), undefined, note));
    if (!htmx) return new Response(null, { status: 303, headers: { location: "/admin" } });
    return html(pluginsFragment(await described(), pageState(s!), note));
  };

  app.post("/admin/logout", (c) =>
    act(c, "logout", () => {
      sessions.end(sessionIdOf(c.req.header("cookie")));
      return Promise.resolve();
    }).then((res) => {
      if (res.status < 400) {
        res = new Response(null, { status: 303, headers: { location: "/admin" } });
        res.headers.set("set-cookie", sessionCookie(undefined, secure(c)));
      }
      return res;
    }));

  app.post("/admin/load", (c) =>
    act(c, "load", (form) => {
      const source = (form.source ?? "").trim();
      if (!source) throw problemError(400, 'Field "source" must be a path or URL: current value is empty');
      return admin.load(source);
    }));

  app.post("/admin/plugins/:name/:action", (c) => {
    const name = c.req.param("name");
    const action = actions[c.req.param("action")];
    if (!action) return problem(404, { title: "Not Found", detail: `No dashboard action ${c.req.path}` });
    return act(c, `${c.req.param("action")} "${name}"`, (form) => action(name, form));
  });
}

/** A problem to answer, thrown from inside an action. */
class ProblemError extends Error {
  constructor(readonly response: Response) {
    super("problem");
  }
}

function problemError(status: 400 | 404, detail: string): ProblemError {
  return new ProblemError(problem(status, { title: status === 400 ? "Bad Request" : "Not Found", detail }));
}
