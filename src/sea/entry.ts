// The single executable's main (scripts/build-sea.mjs bundles it with Node 24 into
// dist/uring-probe-linux-x64): the kernel-probe child when started with the hidden argument
// (src/runtime.ts probeChildCommand), else the CLI. Only meaningful inside the single executable:
// under plain `node` both imported modules start themselves (isSingleExecutable() is false), so
// run dist/bin/uring-probe.js there, never this file.
import { runCli } from '../../bin/uring-probe.js';
import { runProbeChild } from '../child/probe-child.js';
import { CHILD_ARGUMENT, installEmbeddedAddon, isSingleExecutable } from '../runtime.js';

if (isSingleExecutable()) {
  installEmbeddedAddon();
  // process.argv in a single executable: [execPath, argv0 as typed, ...arguments]
  if (process.argv[2] === CHILD_ARGUMENT) runProbeChild();
  else runCli();
}
