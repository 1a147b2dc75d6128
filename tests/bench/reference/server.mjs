// The reference sync server for `cargo xtask bench`: stock automerge-repo 2.x as its
// own sync-server package runs it (websocket server adapter, filesystem storage),
// nothing tuned. Like a sync server it gives any peer every document it asks for and
// announces nothing on its own (shareConfig: access always, announce never).
//   node server.mjs --port P --data-dir D
// Listens on 127.0.0.1 only; prints "listening <port>" once ready; stops on SIGTERM.
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error("usage: node server.mjs --port P --data-dir D");
    process.exit(2);
  }
  return process.argv[i + 1];
}

const port = Number(arg("port"));
const dataDir = arg("data-dir");

const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/sync" });
const repo = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: `reference-sync-server-${process.pid}`,
  shareConfig: {
    announce: async () => false,
    access: async () => true,
  },
});

wss.on("listening", () => console.log(`listening ${port}`));
wss.on("error", (e) => {
  console.error(`reference server: ${e.message}`);
  process.exit(1);
});

async function stop() {
  await repo.shutdown().catch(() => {});
  wss.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
