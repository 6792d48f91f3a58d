// `uring-probe seccomp-profile --from FILE [--output FILE]`: the given Docker/OCI seccomp profile with the
// three io_uring syscalls allowed and nothing else changed, so the diff is the whole story.
import { commandEpilogue } from '../cli/help.js';
import type { Argv } from 'yargs';
import { allowIoUring, readSeccompProfileText } from '../context/seccomp-profile.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, outputPath } from './output.js';
import type { CliCommand, CommandIo } from './index.js';

function fromPath(argv: Record<string, unknown>): string {
  const value = argv['from'];
  if (value === undefined) {
    throw new UsageError('seccomp-profile needs the profile to start from (--from FILE)', 'pass e.g. --from /etc/docker/seccomp.json');
  }
  if (typeof value !== 'string' || value === '') {
    throw new UsageError('--from needs a file name', 'pass e.g. --from /etc/docker/seccomp.json');
  }
  return value;
}

export const seccompProfileCommand: CliCommand = {
  command: 'seccomp-profile',
  describe: 'Write a seccomp profile that is the given one plus the three io_uring syscalls allowed (the least change for the data path)',
  builder(yargs: Argv): Argv {
    return yargs
      .option('from', { type: 'string', describe: 'The Docker/OCI seccomp profile (JSON) to start from' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write the profile to FILE (atomically) instead of stdout' })
      .epilogue(
        commandEpilogue(
          'seccomp-profile',
          [
            { cmd: '$0 seccomp-profile --from /etc/docker/seccomp.json -o uring.json', what: 'write the profile' },
            { cmd: 'docker run --security-opt seccomp=uring.json IMAGE', what: 'run the container with it' },
            { cmd: '$0 seccomp-profile --from p.json | diff p.json -', what: 'see exactly what changed' },
          ],
          [
            'io_uring_setup, io_uring_enter and io_uring_register are taken out of every entry that blocks them '
              + '(an entry left naming nothing is removed); when the default action blocks them too, one SCMP_ACT_ALLOW '
              + 'entry for them is appended to "syscalls". Nothing else changes, and the indentation of the input is kept. '
              + 'What was done is listed on stderr; a profile that already allows them is written unchanged.',
          ],
        ),
      );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const from = fromPath(argv);
    const output = outputPath(argv, 'seccomp-io_uring.json');
    if (output !== null) assertWritableOutput(output);
    const text = readSeccompProfileText(from);
    const result = allowIoUring(text, from);
    const code = emit(io, output, result.text, { reached: 'the profile was made (exit 0)', lost: 'it was not written', exitCode: 0 });
    if (code !== 0) return code;
    if (!result.changed) {
      io.stderr.write(`uring-probe: ${from} already allows io_uring_setup, io_uring_enter and io_uring_register; nothing to change\n`);
    } else {
      for (const change of result.changes) io.stderr.write(`uring-probe: ${change}\n`);
    }
    if (output !== null) {
      io.stderr.write(`uring-probe: wrote ${output}; use it with docker run --security-opt seccomp=${output} ...\n`);
    }
    return 0;
  },
};
