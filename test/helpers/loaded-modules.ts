/**
 * Preloaded into a bot process (`node --import test/helpers/loaded-modules.ts …`): appends the URL of
 * every module the process loads, imported or required, to the file LOADED_MODULES_FILE names, so a
 * test can tell what start-up, or a first command, loaded.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.LOADED_MODULES_FILE;
if (file) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(file, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
