// `pnpm migrate` / `node dist/migrate.js` (the chart's hook Job): applies migrations/*.sql to
// DATABASE_URL and exits 0, or 1 with one log line (143 on SIGTERM). Safe while other replicas run it too.
import { fileURLToPath } from "node:url";
import { migrate, runMigrationCommand } from "@ward/shared/postgres";
import { version } from "./version.js";

const directory = fileURLToPath(new URL("../migrations/", import.meta.url));

await runMigrationCommand({
  service: "worker",
  version,
  apply: (sql, logger, signal) => migrate(sql, { directory, table: "worker_migrations", logger, signal }),
});
