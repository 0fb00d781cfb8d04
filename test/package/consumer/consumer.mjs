// ESM consumer: named imports and the default export of 'sspi-context'.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import lib, { SspiError, sendContext } from 'sspi-context';
import flow from './flow.cjs';

if (lib.sendContext !== sendContext || typeof SspiError !== 'function') throw new Error('named and default exports differ');
flow.run(lib, fork, fileURLToPath(import.meta.url), process.argv[2]);
