/// The control screen: one page, no build step, no framework. It reads `/api/…` once, then follows the
/// catalog's change events (`/api/events`), and posts the one-click actions (snapshot, restore, register,
/// launch, stop, start, terminate); every action is the same controller call the CLI makes. Hosts and the
/// store are panels read again after changes.
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
        </style>
        </head>
        <body>
        <h1>Snaplab</h1>
        <div id="message"></div>
        <h2>Instances</h2><table id="instances"></table>
        <h2>Volumes</h2><table id="volumes"></table>
        <h2>Snapshots</h2><table id="snapshots"></table>
        <button id="older-snapshots" hidden>Older snapshots</button>
        <h2>Images</h2><table id="images"></table>
        <h2>Policies</h2><table id="policies"></table>
        <div id="policy-view"></div>
        <h2>Hosts</h2><table id="hosts"></table>
        <h2>Store</h2><table id="store"></table>
        <script>
        const escape = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
        const tags = (object) => Object.entries(object || {}).map(([k, v]) => `${k}=${v}`).join(", ");
        const size = (bytes) => bytes >= 1073741824 ? (bytes / 1073741824).toFixed(1) + " GiB" : (bytes / 1048576).toFixed(0) + " MiB";
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
            (i.state !== "shutting-down" ? button("terminate", i.id, "Terminate") : "") + `</td></tr>`));
          table("volumes", ["ID", "Role", "Size", "State", "Attached", "Tags", ""], volumes.map((v) =>
            `<tr data-volume-id="${escape(v.id)}"><td>${escape(v.id)}</td><td>${escape(v.role)}</td><td>${size(v.size)}</td>` +
            `<td class="state-${escape(v.state)}">${escape(v.state)}</td><td>${escape(v.instanceId ? v.instanceId + ":" + v.device : "")}</td>` +
            `<td>${escape(tags(v.tags))}</td><td>${button("snapshot-volume", v.id, "Snapshot")}</td></tr>`));
          table("snapshots", ["ID", "Volume", "Role", "State", "Progress", "Stored", "Consistency", ""], snapshots.map((s) =>
            `<tr data-snapshot-id="${escape(s.id)}" data-volume-id="${escape(s.volumeId)}" data-state="${escape(s.state)}">` +
            `<td>${escape(s.id)}</td><td>${escape(s.volumeId)}</td><td>${escape(s.volumeRole)}</td>` +
            `<td class="state-${escape(s.state)}">${escape(s.state)}</td>` +
            `<td><progress max="100" value="${s.state === "completed" ? 100 : s.progress}"></progress></td>` +
            `<td>${size(s.bytesStored)}</td><td>${escape(s.consistency)}</td><td>` +
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
        let panels = {hosts: [], store: null}, panelsRead = 0;
        async function readPanels() {
          panelsRead = Date.now();
          const [hosts, store] = await Promise.all([load("/api/hosts"), load("/api/store")]);
          panels = {hosts, store};
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
        };

        document.addEventListener("click", (event) => {
          const view = event.target.closest("button[data-view='policy']");
          if (view) showPolicy(view.dataset.id).catch((error) => {
            document.getElementById("message").textContent = String(error);
          });
        });

        document.addEventListener("click", async (event) => {
          const target = event.target.closest("button[data-action]");
          if (!target) return;
          const [url, body] = routes[target.dataset.action](target.dataset.id);
          target.disabled = true;
          const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: body ? JSON.stringify(body) : undefined});
          const result = await response.json();
          document.getElementById("message").textContent = response.ok
            ? `${target.textContent}: done (${[].concat(result).map((r) => r.id).join(", ")})`
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
