/** `npm run keys -- create|list|revoke ...`: API keys of the data directory in VISAGE_DATA (see README). */
import { KEYS_USAGE, runKeysCommand, UsageError } from '../src/access/keys-command.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';

try {
  const config = loadConfig();
  // No start-up sweep: a server may be running on this directory with a registration in flight.
  const store = await openSqliteStore({ dataDir: config.dataDir, sweepOrphans: false });
  try {
    for (const line of await runKeysCommand(store, process.argv.slice(2))) console.log(line);
  } finally {
    await store.close();
  }
} catch (error) {
  if (error instanceof UsageError) console.error(`${error.message}\n${KEYS_USAGE}`);
  else if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exitCode = 1;
}
