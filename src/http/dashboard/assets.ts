/**
 * The dashboard's static assets, all served by plugboard itself (no CDN):
 * htmx, read from the npm package plugboard depends on, a small script for
 * the live events and for showing refused actions in place, and the styles.
 *
 * @module
 */

import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };

/** The live view and in-place problems: plain DOM code, loaded after htmx. */
const DASHBOARD_JS = `"use strict";
(() => {
  const list = document.getElementById("live-events");
  const add = (text, error) => {
    if (!list) return;
    const li = document.createElement("li");
    if (error) li.className = "error";
    li.textContent = new Date().toLocaleTimeString() + " " + text;
    list.prepend(li);
    while (list.children.length > 200) list.lastElementChild.remove();
  };
  let pending;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (window.htmx) window.htmx.ajax("GET", "/admin/fragment", { target: "#plugins", swap: "outerHTML" });
    }, 250);
  };
  const source = new EventSource("/admin/events");
  source.onopen = () => { if (list) list.dataset.connected = "true"; };
  source.onmessage = (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    const name = String(data.name);
    const p = data.payload || {};
    const error = name === "system.error" || name.endsWith(".failed") || name.endsWith("_failed");
    const detail = p.message || p.error || (p.name ? p.name : "") || (p.taskId ? p.taskId : "");
    add(name + (p.plugin ? " [" + p.plugin + "]" : "") + (detail ? ": " + detail : ""), error);
    if (name.startsWith("plugin.") || name === "system.error") refresh();
  };
  document.body.addEventListener("htmx:beforeSwap", (evt) => {
    const xhr = evt.detail.xhr;
    if (xhr.status < 400) return;
    evt.detail.shouldSwap = false;
    let problem = {};
    try { problem = JSON.parse(xhr.responseText); } catch { problem = { detail: xhr.responseText }; }
    const elt = evt.detail.requestConfig && evt.detail.requestConfig.elt || evt.detail.elt;
    const scope = elt && (elt.closest("article") || elt.closest("form"));
    const box = (scope && scope.querySelector("[data-problem]")) || document.querySelector("[data-problem]");
    if (!box) return;
    box.textContent = xhr.status + " " + (problem.title || "") + (problem.code ? " (" + problem.code + ")" : "") +
      ": " + (problem.detail || "");
    box.hidden = false;
  });
})();
`;

const DASHBOARD_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fff; }
header.top { display: flex; gap: 1em; align-items: center; padding: .5em 1em; background: #1f2d3d; color: #fff; }
header.top h1 { font-size: 1.2em; margin: 0; }
header.top a { color: #cde; }
header.top form { margin-left: auto; }
main { padding: 1em; display: grid; grid-template-columns: 1fr 2fr; gap: 1em; }
main.login { display: block; max-width: 24em; margin: 4em auto; }
#plugins { grid-column: 1 / -1; display: grid; grid-template-columns: repeat(auto-fill, minmax(26em, 1fr)); gap: 1em; }
#plugins > h2, #plugins > .note { grid-column: 1 / -1; margin: 0; }
.plugin { border: 1px solid #ccd; border-radius: 6px; padding: .6em .8em; }
.plugin header { display: flex; gap: .6em; align-items: baseline; }
.plugin h3 { margin: 0; }
.state { padding: 0 .4em; border-radius: 3px; background: #ddd; }
.state-active { background: #cfeccf; } .state-failed { background: #f5c6c6; } .state-unloaded { background: #eee; }
dl { display: grid; grid-template-columns: 9em 1fr; margin: .5em 0; }
dt { color: #567; } dd { margin: 0; overflow-wrap: anywhere; }
dd ul { margin: 0; padding-left: 1.1em; }
.none { color: #999; }
.last-error { color: #a00; }
.actions { display: flex; flex-wrap: wrap; gap: .3em; margin-top: .4em; }
.actions form { display: inline; }
button.danger { color: #a00; }
.problem { background: #fdecea; color: #611; border: 1px solid #e5a0a0; padding: .3em .5em; margin-top: .4em; }
#live-events { max-height: 14em; overflow: auto; font-family: ui-monospace, monospace; font-size: 12px; padding-left: 3em; }
#live-events .error { color: #b00; }
`;

/** Each asset's body and content type, by path under `/admin/assets/`. */
export const ASSETS: Readonly<Record<string, { body: string; type: string }>> = {
  "htmx.js": { body: htmx, type: "text/javascript; charset=utf-8" },
  "dashboard.js": { body: DASHBOARD_JS, type: "text/javascript; charset=utf-8" },
  "dashboard.css": { body: DASHBOARD_CSS, type: "text/css; charset=utf-8" },
};
