// `gantry logs INSTANCE`: the container log, streamed with -f until Ctrl-C.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE, NotFoundError, UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { runInstanceOf } from './job-columns.js';
import { parseCount } from './parse-count.js';
import { shutdownOnSignals } from './signals.js';

export function logsCommand(ctx: CliContext) {
  return new Command('logs')
    .description("print an instance's container log, or a job run's: logs job NAME [--run N]")
    .argument('<instance>', 'the instance name (see `gantry get instances`), or `job`')
    .argument('[job]', 'with `job`: the job name (see `gantry get jobs`)')
    .option('--run <n>', 'with `job`: the run number (default: the latest run)')
    .option('-c, --container <name>', 'the container, when the instance has several')
    .option('-f, --follow', 'keep streaming new lines until Ctrl-C')
    .option('--tail <n>', 'only the last N lines')
    .option('--timestamps', "each line starts with Docker's time it was written (RFC 3339)")
    .option('-p, --previous', "the container's run before its last restart")
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (first, jobName, opts, cmd) => {
      const tail = opts.tail === undefined ? undefined : parseCount(opts.tail, '--tail');
      const client = await clientFor(ctx, cmd);
      let instance = first;
      if (jobName !== undefined || opts.run !== undefined) {
        if (first !== 'job' || jobName === undefined) throw new UsageError('a run log is `gantry logs job NAME [--run N]`');
        const run = opts.run === undefined ? undefined : parseCount(opts.run, '--run');
        const picked = runInstanceOf(await client.get('Job', opts.namespace, jobName), run);
        if ('error' in picked) throw new NotFoundError('Job', opts.namespace, jobName, picked.error);
        instance = picked.instance;
      }
      const stop = shutdownOnSignals();
      try {
        const chunks = client.logs(opts.namespace, instance, { container: opts.container, follow: Boolean(opts.follow), tail, timestamps: Boolean(opts.timestamps), previous: Boolean(opts.previous) }, stop.signal);
        for await (const chunk of chunks) ctx.stdout(chunk);
      } catch (e) {
        // Ctrl-C is how a user ends `logs -f`: not a failure.
        if (!stop.signal.aborted) throw e;
      } finally {
        stop.dispose();
      }
    });
}
