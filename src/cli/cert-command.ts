// `gantry cert renew`: a new API server certificate from the cluster CA in the data dir (the CA and
// so every client's trust stay). Run it on the server's host; the server serves it from its next start.
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { globalOptions, resolveDataDir } from './global-options.js';
import { parseTlsFlags } from './tls-options.js';

export function certCommand(ctx: CliContext) {
  return new Command('cert')
    .description("the API server's TLS certificate: renew issues a new one (new key, valid one year) from the cluster CA in the data dir")
    .argument('<action>', 'renew')
    .option('--tls-san <list>', 'extra DNS names and IP addresses, comma-separated (the current ones are kept)')
    .action(async (action, opts, cmd) => {
      if (action !== 'renew') throw new UsageError(`unknown cert action "${action}": use renew`);
      // Loaded here: the other commands start without the server's modules.
      const { renewServerCertificate } = await import('../server/index.js');
      const dataDir = resolveDataDir(ctx, globalOptions(cmd));
      const choice = parseTlsFlags({ tlsSan: opts.tlsSan });
      const renewed = await renewServerCertificate(dataDir, { sans: choice.tls === false ? [] : choice.tls.sans });
      ctx.stdout(
        [
          `renewed the server certificate ${join(dataDir, 'tls', 'server.crt')} (valid until ${renewed.notAfter.toISOString()})`,
          `  names: ${renewed.sans.join(', ')}`,
          `  CA:    unchanged (sha256 ${renewed.caFingerprint}); clients keep trusting it`,
          '  restart the server (gantry up / gantry server) to serve it',
          '',
        ].join('\n'),
      );
    });
}
