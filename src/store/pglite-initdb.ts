/**
 * Creates PGlite's database in the directory given as argument, and exits. openPglite runs it as a
 * process of its own on a first run: initdb leaves ~400 MB of WebAssembly memory behind that V8 frees
 * only at a major GC, which a quiet bot may not do for hours; the bot then opens the ready directory.
 *
 *   node src/store/pglite-initdb.ts <directory>
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: node src/store/pglite-initdb.ts <directory>\n');
  process.exit(2);
}
const pglite = await PGlite.create(dataDir, { startParams: [...PGLITE_START_PARAMS] });
await pglite.close();
