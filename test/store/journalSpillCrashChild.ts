/**
 * Child process for the spilled-line SIGKILL test: appends journal lines far bigger than the spill
 * size given in argv[3] to the journal at argv[2] until killed, printing each acknowledged line's number.
 */
import { JournalWriter } from '../../server/store/journal.js';

const [file, spillBytes] = process.argv.slice(2);
if (file === undefined || spillBytes === undefined)
  throw new Error('usage: journalSpillCrashChild FILE SPILL_BYTES');
const writer = await JournalWriter.create(file, Number(spillBytes));
for (let n = 0; ; n++) {
  await writer.append((entry) => {
    entry.text(`{"n":${n},"pieces":[`);
    for (let i = 0; i < 1000; i++) entry.text(`${i > 0 ? ',' : ''}"${n}-${i} 华东 ü 🚀 ${'x'.repeat(100)}"`);
    entry.text(']}');
  });
  process.stdout.write(`${n}\n`);
}
