/// The control screen: one page, no build step, no framework. It reads `/api/…` once, then follows the
/// catalog's change events (`/api/events`), and posts the one-click actions (snapshot, restore, register,
/// launch, stop, start, terminate, attach, detach, tags, restore to an instance); every action is the same
/// controller call the CLI makes. A volume's lineage is drawn on a time axis; hosts, the store and the boot
/// bench's kept runs are panels read again after changes.
enum ConsolePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Snaplab control screen</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
          h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
          table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
          th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
          th { background: #f4f4f4; }
          .state-completed, .state-running, .state-available { color: #2a7a2a; }
          .state-pending, .state-stopping { color: #b06f00; }
          .state-error, .state-failed { color: #b00020; }
          button { font-size: 0.85em; margin-right: 0.3em; }
          #message { min-height: 1.4em; color: #444; }
          progress { width: 6em; }
          #lineage svg { border: 1px solid #ddd; background: #fcfcfc; }
          .lineage-snapshot { cursor: pointer; }
          .lineage-snapshot.selected > :first-child { stroke: #000; stroke-width: 3; }
          pre#console-tail { background: #111; color: #ddd; padding: 0.6em; max-height: 20em; overflow: auto; }
          #boot-plot { max-width: 100%; border: 1px solid #ddd; }
        </style>
        </head>
        <body>
        <h1>Snaplab</h1>
        <div id="message"></div>
        <h2>Instances</h2><table id="instances"></table>
        <div id="console-view"></div>
        <h2>Volumes</h2><table id="volumes"></table>
        <div id="lineage"></div>
        <h2>Snapshots</h2><table id="snapshots"></table>
        <button id="older-snapshots" hidden>Older snapshots</button>
        <h2>Images</h2><table id="images"></table>
        <h2>Policies</h2><table id="policies"></table>
        <div id="policy-view"></div>
        <h2>Hosts</h2><table id="hosts"></table>
        <h2>Store</h2><table id="store"></table>
        <h2>Boot bench runs</h2><table id="boot-runs"></table>
        <div id="boot-run-view"></div>
        <script>
        const escape = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
        const tags = (object) => Object.entries(object || {}).map(([k, v]) => `${k}=${v}`).join(", ");
        const size = (bytes) => bytes >= 1073741824 ? (bytes / 1073741824).toFixed(1) + " GiB" : (bytes / 1048576).toFixed(0) + " MiB";
        // "governance until …", "compliance (cool-off until …) until …", or "" when unlocked or expired.
        const lockText = (lock) => {
          if (!lock || Date.parse(lock.expiresAt) <= Date.now()) return "";
          const coolOff = lock.coolOffEndsAt && Date.parse(lock.coolOffEndsAt) > Date.now() ? ` (cool-off until ${lock.coolOffEndsAt})` : "";
          return `${lock.mode}${coolOff} until ${lock.expiresAt}`;
        };
        const button = (action, id, label) => `<button data-action="${action}" data-id="${escape(id)}">${label}</button>`;

        function table(element, header, rows) {
          document.getElementById(element).innerHTML =
            "<tr>" + header.map((h) => `<th>${h}</th>`).join("") + "</tr>" + rows.join("");
        }

        // What the screen shows, by kind and id. Filled once (snapshots a page at a time, newest first), then
        // kept current by the server's change events: nothing is polled.
        const kinds = {instance: "instances", volume: "volumes", snapshot: "snapshots", image: "images", policy: "policies"};
        const shown = Object.fromEntries(Object.values(kinds).map((kind) => [kind, new Map()]));
        const pageSize = 100;
        let olderSnapshots = null;
        let events = null;

        async function load(path) {
          const response = await fetch(path);
          if (response.status === 401) { location.reload(); throw new Error("signed out"); }
          if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
          return response.json();
        }

        function keep(kind, items) { for (const item of items) shown[kind].set(item.id, item); }

        async function reload() {
          try {
            if (events) events.close();
            const {cursor} = await load("/api/changes");
            const [instances, volumes, images, policies, snapshots] = await Promise.all([
              load("/api/instances"), load("/api/volumes"), load("/api/images"), load("/api/policies"),
              load(`/api/snapshots?order=newest&limit=${pageSize}`)]);
            for (const map of Object.values(shown)) map.clear();
            keep("instances", instances); keep("volumes", volumes); keep("images", images); keep("policies", policies);
            keep("snapshots", snapshots.items);
            olderSnapshots = snapshots.next;
            render();
            events = new EventSource(`/api/events?since=${cursor}`);
            events.addEventListener("changes", (event) => apply(JSON.parse(event.data)));
          } catch (error) {
            document.getElementById("message").textContent = String(error);
          }
        }

        function apply(changes) {
          if (changes.reset) return reload();
          for (const kind of Object.values(kinds)) keep(kind, changes[kind] || []);
          changedPolicies = (changes.snapshots || []).length > 0 || (changes.policies || []).length > 0;
          for (const gone of changes.deleted) shown[kinds[gone.kind]]?.delete(gone.id);
          render();
          if (consoleShown && (changes.instances || []).some((i) => i.id === consoleShown)) showConsole(consoleShown).catch(() => {});
        }

        async function showOlderSnapshots() {
          const page = await load(`/api/snapshots?order=newest&limit=${pageSize}&after=${encodeURIComponent(olderSnapshots)}`);
          keep("snapshots", page.items);
          olderSnapshots = page.next;
          render();
        }

        function render() {
          const instances = [...shown.instances.values()], volumes = [...shown.volumes.values()];
          const snapshots = [...shown.snapshots.values()].sort((a, b) =>
            a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : (a.createdAt < b.createdAt ? 1 : -1));
          const images = [...shown.images.values()], policies = [...shown.policies.values()];
          table("instances", ["ID", "State", "Memory", "Image", "Tags", ""], instances.filter((i) => i.state !== "terminated").map((i) =>
            `<tr data-instance-id="${escape(i.id)}"><td>${escape(i.id)}</td><td class="state-${escape(i.state)}">${escape(i.state)}</td>` +
            `<td>${i.memoryMiB} MiB</td><td>${escape(i.imageId)}</td><td>${escape(tags(i.tags))}</td>` +
            `<td>${i.state === "running" || i.state === "stopped" ? button("snapshot-instance", i.id, "Snapshot") : ""}` +
            (i.state === "running" ? button("stop", i.id, "Stop") : "") +
            (i.state === "stopped" ? button("start", i.id, "Start") : "") +
            (i.state !== "shutting-down" ? button("terminate", i.id, "Terminate") : "") +
            `<button data-view="console" data-id="${escape(i.id)}">Console</button>` + button("tags", i.id, "Tags") + `</td></tr>`));
          table("volumes", ["ID", "Role", "Size", "State", "Attached", "Tags", ""], volumes.map((v) =>
            `<tr data-volume-id="${escape(v.id)}"><td>${escape(v.id)}</td><td>${escape(v.role)}</td><td>${size(v.size)}</td>` +
            `<td class="state-${escape(v.state)}">${escape(v.state)}</td><td>${escape(v.instanceId ? v.instanceId + ":" + v.device : "")}</td>` +
            `<td>${escape(tags(v.tags))}</td><td>${button("snapshot-volume", v.id, "Snapshot")}` +
            `<button data-view="lineage" data-id="${escape(v.id)}">Lineage</button>` +
            (v.role === "data" && v.state === "available" ? button("attach", v.id, "Attach") : "") +
            (v.role === "data" && v.state === "in-use" ? button("detach", v.id, "Detach") : "") +
            button("tags", v.id, "Tags") + `</td></tr>`));
          table("snapshots", ["ID", "Volume", "Role", "State", "Progress", "Stored", "Consistency", "Lock", ""], snapshots.map((s) =>
            `<tr data-snapshot-id="${escape(s.id)}" data-volume-id="${escape(s.volumeId)}" data-state="${escape(s.state)}">` +
            `<td>${escape(s.id)}</td><td>${escape(s.volumeId)}</td><td>${escape(s.volumeRole)}</td>` +
            `<td class="state-${escape(s.state)}">${escape(s.state)}</td>` +
            `<td><progress max="100" value="${s.state === "completed" ? 100 : s.progress}"></progress></td>` +
            `<td>${size(s.bytesStored)}</td><td>${escape(s.consistency)}</td><td class="lock">${escape(lockText(s.lock))}</td><td>` +
            (s.state === "completed" ? button("restore", s.id, "Restore") : "") +
            (s.state === "completed" && s.volumeRole === "boot" ? button("register-image", s.id, "Register image") : "") + `</td></tr>`));
          document.getElementById("older-snapshots").hidden = !olderSnapshots;
          table("images", ["ID", "Name", "State", "Boot snapshot", ""], images.filter((i) => i.state !== "deregistered").map((i) =>
            `<tr data-image-id="${escape(i.id)}"><td>${escape(i.id)}</td><td>${escape(i.name)}</td>` +
            `<td class="state-${escape(i.state)}">${escape(i.state)}</td><td>${escape(i.bootSnapshotId)}</td>` +
            `<td>${i.state === "available" ? button("launch", i.id, "Launch") : ""}</td></tr>`));
          table("policies", ["ID", "Name", "Target", "Enabled", ""], policies.map((p) =>
            `<tr data-policy-id="${escape(p.id)}"><td>${escape(p.id)}</td><td>${escape(p.name)}</td><td>${escape(tags(p.targetTags))}</td>` +
            `<td>${p.enabled}</td><td><button data-view="policy" data-id="${escape(p.id)}">History</button></td></tr>`));
          renderPanels();
          if (policyShown && changedPolicies) showPolicy(policyShown);
          if (lineageShown) drawLineage();
        }

        // A volume's snapshots on a time axis: squares are full copies, circles incremental ones (a line joins
        // each to its parent); the colour is the consistency, a ring marks a pinned snapshot. Clicking one
        // offers restore and restore-to-instance. Drawn from the snapshots the screen holds, which the change
        // events keep current; read once from the API for the volume's older ones.
        let lineageShown = null, lineageSelected = null;
        const consistencyColour = {"app-consistent": "#2a7a2a", "fs-frozen": "#2a5aa0", "crash": "#c07000"};
        async function showLineage(id) {
          lineageShown = id; lineageSelected = null;
          const older = await load(`/api/snapshots?volume=${encodeURIComponent(id)}&order=newest&limit=1000`);
          keep("snapshots", older.items);
          drawLineage();
        }
        function drawLineage() {
          const list = [...shown.snapshots.values()].filter((s) => s.volumeId === lineageShown)
            .sort((a, b) => a.createdAt < b.createdAt ? -1 : 1);
          const width = 900, height = 150, left = 40, right = 40, axis = 110;
          const times = list.map((s) => Date.parse(s.createdAt));
          const first = Math.min(...times), last = Math.max(...times), span = Math.max(last - first, 1000);
          const x = (s) => list.length === 1 ? width / 2 : left + (Date.parse(s.createdAt) - first) / span * (width - left - right);
          const byId = new Map(list.map((s) => [s.id, s]));
          const links = list.filter((s) => s.incremental && byId.has(s.parentId)).map((s) => {
            const from = x(byId.get(s.parentId)), to = x(s), lift = Math.min(60, 12 + (to - from) / 4);
            return `<path d="M${from},${axis - 30} Q${(from + to) / 2},${axis - 30 - lift} ${to},${axis - 30}" fill="none" stroke="#999"/>`;
          });
          const marks = list.map((s) => {
            const colour = s.state === "error" ? "#b00020" : s.state === "pending" ? "#aaa" : consistencyColour[s.consistency] || "#666";
            const cx = x(s), cy = axis - 30, policy = (s.tags || {})["snaplab:policy"];
            const shape = s.incremental ? `<circle cx="${cx}" cy="${cy}" r="8" fill="${colour}"/>`
                                        : `<rect x="${cx - 8}" y="${cy - 8}" width="16" height="16" fill="${colour}"/>`;
            const pin = s.pinned ? `<circle cx="${cx}" cy="${cy}" r="13" fill="none" stroke="#444" stroke-dasharray="3 2"/>` : "";
            const locked = lockText(s.lock);
            const padlock = locked ? `<rect class="lock-mark" x="${cx - 5}" y="${cy - 26}" width="10" height="8" fill="#800"/>` +
              `<path d="M${cx - 3},${cy - 26} v-3 a3,3 0 0 1 6,0 v3" fill="none" stroke="#800" stroke-width="1.5"/>` : "";
            const title = `${s.id}: ${s.incremental ? "incremental" : "full"}, ${s.state}, ${s.consistency || "—"}` +
              `${s.pinned ? ", pinned" : ""}${policy ? ", policy " + policy : ""}${locked ? ", locked " + locked : ""}, ${s.createdAt}`;
            return `<g class="lineage-snapshot${s.id === lineageSelected ? " selected" : ""}" data-snapshot-id="${escape(s.id)}" ` +
              `data-kind="${s.incremental ? "incremental" : "full"}" data-state="${escape(s.state)}" data-locked="${locked ? "yes" : "no"}">${shape}${pin}${padlock}<title>${escape(title)}</title></g>`;
          });
          const ticks = list.length ? [first, first + span / 2, first + span].map((t, n) => {
            const tx = left + (t - first) / span * (width - left - right);
            return `<line x1="${tx}" x2="${tx}" y1="${axis}" y2="${axis + 5}" stroke="#444"/>` +
              `<text x="${tx}" y="${axis + 20}" font-size="11" text-anchor="${["start", "middle", "end"][n]}">${escape(new Date(t).toISOString().replace(".000", ""))}</text>`;
          }) : [];
          const selected = byId.get(lineageSelected);
          document.getElementById("lineage").innerHTML =
            `<h3>Lineage of ${escape(lineageShown)} (${list.length} snapshots; ■ full, ● incremental; ` +
            `green app-consistent, blue fs-frozen, orange crash; ring: pinned; padlock: locked)</h3>` +
            `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
            `<line x1="${left}" x2="${width - right}" y1="${axis}" y2="${axis}" stroke="#444"/>` +
            links.join("") + marks.join("") + ticks.join("") + `</svg>` +
            `<div id="lineage-detail">${selected ? lineageDetail(selected) : "Click a snapshot to restore it."}</div>`;
        }
        function lineageDetail(s) {
          const policy = (s.tags || {})["snaplab:policy"];
          return `${escape(s.id)}: ${s.incremental ? "incremental from " + escape(s.parentId) : "full"}, ` +
            `${escape(s.state)}, ${escape(s.consistency || "")}${s.pinned ? ", pinned" : ""}${policy ? ", policy " + escape(policy) : ""}` +
            `${lockText(s.lock) ? ", locked " + escape(lockText(s.lock)) : ""}, ` +
            `${escape(s.createdAt)}, ${size(s.bytesStored)} stored ` +
            (s.state === "completed" ? button("restore", s.id, "Restore to a volume") +
              button("restore-to-instance", s.id, s.volumeRole === "boot" ? "Launch an instance from it" : "Restore into an instance") : "");
        }
        document.addEventListener("click", (event) => {
          const mark = event.target.closest(".lineage-snapshot");
          if (!mark) return;
          lineageSelected = mark.dataset.snapshotId;
          drawLineage();
        });

        // The newest part of an instance's console, read again while shown when the instance changes.
        let consoleShown = null;
        async function showConsole(id) {
          consoleShown = id;
          const {text} = await load(`/api/instances/${encodeURIComponent(id)}/console?bytes=8192`);
          document.getElementById("console-view").innerHTML =
            `<h3>Console of ${escape(id)} (the last 8 KiB) <button data-view="console" data-id="${escape(id)}">Refresh</button></h3>` +
            `<pre id="console-tail">${escape(text)}</pre>`;
          const pre = document.getElementById("console-tail");
          pre.scrollTop = pre.scrollHeight;
        }

        // A policy's schedule, next run and newest runs: what each took and pruned (read again after changes).
        let policyShown = null, changedPolicies = false;
        async function showPolicy(id) {
          policyShown = id; changedPolicies = false;
          const view = await load(`/api/policies/${encodeURIComponent(id)}/runs`);
          const runs = view.runs.map((r) =>
            `<tr data-run-slot="${escape(r.slot)}" data-run-state="${escape(r.state)}"><td>${escape(r.slot)}</td>` +
            `<td class="state-${escape(r.state)}">${escape(r.state)}</td><td>${escape(r.snapshotsTaken.join(" "))}</td>` +
            `<td class="pruned">${escape(r.snapshotsPruned.join(" "))}</td><td>${escape(r.errors.concat(r.warnings).join("; "))}</td></tr>`);
          document.getElementById("policy-view").innerHTML =
            `<h3>${escape(id)}: ${escape(view.schedule)}, keeps ${escape(view.retention || "nothing")}` +
            `${view.nextRun ? ", next run " + escape(view.nextRun) : ""}</h3><table id="policy-runs"></table>`;
          table("policy-runs", ["Slot", "Outcome", "Took", "Pruned (past retention)", "Errors and warnings"], runs);
        }

        // Hosts and the store change with the resources: read again (at most every 5 s) after a change.
        let panels = {hosts: [], store: null, bootRuns: []}, panelsRead = 0;
        async function readPanels() {
          panelsRead = Date.now();
          const [hosts, store, bootRuns] = await Promise.all([load("/api/hosts"), load("/api/store"), load("/api/boot-runs")]);
          panels = {hosts, store, bootRuns};
          renderPanels();
        }
        function renderPanels() {
          if (Date.now() - panelsRead > 5000) readPanels().catch((error) => {
            document.getElementById("message").textContent = String(error);
          });
          table("hosts", ["Name", "URI", "Pool free", "Instances (running)", "Volumes", "Problem"], panels.hosts.map((h) =>
            `<tr data-host="${escape(h.host.name)}"><td>${escape(h.host.name)}</td><td>${escape(h.host.uri)}</td>` +
            `<td>${h.poolAvailable == null ? "" : size(h.poolAvailable) + " of " + size(h.poolCapacity)}</td>` +
            `<td>${h.instances} (${h.runningInstances})</td><td>${h.volumes}</td>` +
            `<td class="${h.problem ? "state-error" : ""}">${escape(h.problem)}</td></tr>`));
          const store = panels.store;
          table("store", ["Where", "Snapshots", "Stored", "Dedup ratio"], store ? [
            `<tr data-store-url="${escape(store.url)}"><td>${escape(store.url)}</td>` +
            `<td>${escape(Object.entries(store.snapshots).map(([k, v]) => `${v} ${k}`).join(", "))}</td>` +
            `<td>${size(store.storedBytes)}</td><td>${store.dedupRatio == null ? "" : "×" + store.dedupRatio.toFixed(2)}</td></tr>`] : []);
          table("boot-runs", ["Run", "Boots", "Failed", "Disk sizes", "fsck", ""], panels.bootRuns.map((r) =>
            `<tr data-boot-run="${escape(r.name)}"><td>${escape(r.name)}</td><td>${r.boots}</td><td>${r.failed}</td>` +
            `<td>${escape(r.sizes.map(size).join(" "))}</td><td>${escape(r.modes.join(" "))}</td>` +
            `<td><button data-view="boot-run" data-id="${escape(r.name)}">Plot</button></td></tr>`));
        }

        // A kept boot sweep drawn by the same code as the CLI's boot.svg.
        function showBootRun(name) {
          document.getElementById("boot-run-view").innerHTML =
            `<img id="boot-plot" alt="boot run ${escape(name)}" src="/api/boot-runs/${encodeURIComponent(name)}/plot.svg">`;
        }

        const routes = {
          "snapshot-volume": (id) => [`/api/volumes/${id}/snapshot`, null],
          "snapshot-instance": (id) => [`/api/instances/${id}/snapshot`, null],
          "restore": (id) => [`/api/snapshots/${id}/restore`, null],
          "register-image": (id) => [`/api/snapshots/${id}/register-image`, {name: prompt("Image name", `image-of-${id}`) || `image-of-${id}`}],
          "launch": (id) => [`/api/images/${id}/launch`, null],
          "stop": (id) => [`/api/instances/${id}/stop`, null],
          "start": (id) => [`/api/instances/${id}/start`, null],
          "terminate": (id) => [`/api/instances/${id}/terminate`, null],
          "restore-to-instance": (id) => {
            const snapshot = shown.snapshots.get(id);
            if (snapshot.volumeRole === "boot") return [`/api/snapshots/${id}/restore-to-instance`, null];
            const instanceId = prompt("Attach the restored volume to instance", defaultInstance(snapshot.instanceId));
            return instanceId ? [`/api/snapshots/${id}/restore-to-instance`, {instanceId}] : null;
          },
          "attach": (id) => {
            const instanceId = prompt("Attach to instance", defaultInstance(null));
            return instanceId ? [`/api/volumes/${id}/attach`, {instanceId}] : null;
          },
          "detach": (id) => [`/api/volumes/${id}/detach`, null],
          "tags": (id) => {
            // The lab's own `snaplab:` tags are not the user's to edit: left out of the text, and kept.
            const item = shown.instances.get(id) || shown.volumes.get(id);
            const own = Object.fromEntries(Object.entries((item && item.tags) || {}).filter(([k]) => !k.startsWith("snaplab:")));
            const text = prompt("Tags: KEY=VALUE, comma-separated (a key left out is removed)", tags(own));
            if (text === null) return null;
            const wanted = {};
            for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
              const [key, ...rest] = part.split("=");
              if (rest.join("=").trim() !== "") wanted[key.trim()] = rest.join("=").trim();
            }
            const set = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => own[k] !== v));
            const remove = Object.keys(own).filter((k) => !(k in wanted));
            if (Object.keys(set).length === 0 && remove.length === 0) return null;
            return [`/api/resources/${id}/tags`, {set, remove}];
          },
        };
        const defaultInstance = (preferred) => preferred && shown.instances.get(preferred)?.state !== "terminated" ? preferred
          : ([...shown.instances.values()].find((i) => i.state === "running" || i.state === "stopped") || {}).id || "";

        document.addEventListener("click", (event) => {
          const view = event.target.closest("button[data-view]");
          if (!view) return;
          const show = {policy: showPolicy, lineage: showLineage, console: showConsole, "boot-run": showBootRun}[view.dataset.view];
          Promise.resolve(show(view.dataset.id)).catch((error) => {
            document.getElementById("message").textContent = String(error);
          });
        });

        document.addEventListener("click", async (event) => {
          const target = event.target.closest("button[data-action]");
          if (!target) return;
          const route = routes[target.dataset.action](target.dataset.id);
          if (!route) return;
          const [url, body] = route;
          target.disabled = true;
          const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: body ? JSON.stringify(body) : undefined});
          const result = await response.json();
          document.getElementById("message").textContent = response.ok
            ? `${target.textContent}: done (${[].concat(result).map((r) => r.id || (r.instance && r.instance.id) || "").filter(Boolean).join(", ")})`
            : `${target.textContent} failed: ${result.error.message}`;
          target.disabled = false;
        });

        document.getElementById("older-snapshots").addEventListener("click", showOlderSnapshots);
        reload();
        </script>
        </body>
        </html>
        """#
}
