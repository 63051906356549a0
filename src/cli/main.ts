#!/usr/bin/env node
/**
 * The tsmicro command's entry. It turns on Node's module compile cache before anything else is loaded, then
 * imports the program: every later module (commander, inversify, tsmicro, the services `tsmicro run` loads and
 * their plugins) is compiled from the cache instead of from source after the first run.
 *
 * The cache is Node's: the directory named by NODE_COMPILE_CACHE, else `<os tmpdir>/node-compile-cache`,
 * shared by the Node processes of the user and keyed by Node version and file content, so a rebuilt file is
 * simply compiled again. NODE_DISABLE_COMPILE_CACHE=1 turns it off. When the directory cannot be created or
 * written (a read-only file system), Node reports it in the returned status and the CLI runs uncached.
 * Done here and not in the package index: an index is compiled together with everything it imports, before
 * any of its code runs, so it could only speed up what is imported later.
 */
process.getBuiltinModule('node:module').enableCompileCache?.();

const { main } = await import('./program.js');
// `run` returns only after a signal has stopped its services; every command ends the process here.
process.exit(await main(process.argv.slice(2)));
