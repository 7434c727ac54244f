/**
 * Child process for the SIGKILL test: opens the store in argv[2] with the key in argv[3] (hex) and
 * commits 20-record transactions until killed, printing each acknowledged transaction's first number.
 */
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { record } from '../support/storedRecords.js';

const [dataDir, keyHex] = process.argv.slice(2);
if (dataDir === undefined || keyHex === undefined) throw new Error('usage: lowdbCrashChild DATA_DIR KEY_HEX');
// A small compaction threshold so the kill also lands during compactions.
const store = await LowdbStore.open({
  dataDir,
  keyring: keyringFromMasterKey(Buffer.from(keyHex, 'hex')),
  compactBytes: 64 * 1024,
});
for (let batch = 0; ; batch++) {
  const nos = Array.from({ length: 20 }, (_, i) => `BB-2026-${String(batch * 20 + i + 1).padStart(6, '0')}`);
  await store.write(async (tx) => {
    for (const no of nos) await tx.putRecord(record(no));
  });
  process.stdout.write(`${nos[0]}\n`);
}
