// The `gantry` command. Each command group lives in its own file under commands/; this file wires
// them and turns every error into one line on stderr and a non-zero exit.
import { Command, CommanderError } from 'commander';
import { GantryError } from '../shared/errors.ts';
import { VERSION } from '../shared/version.ts';
import { CliError } from './client.ts';
import { registerAgentCommand } from './commands/agent.ts';
import { registerAgentCommands } from './commands/agents.ts';
import { registerAppCommands } from './commands/apps.ts';
import { registerCiCommands } from './commands/ci.ts';
import { registerDiscoveryCommands } from './commands/discovery.ts';
import { registerImageCommands } from './commands/images.ts';
import { registerJobCommands } from './commands/jobs.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerServerCommand } from './commands/server.ts';
import { registerTaskCommands } from './commands/tasks.ts';

const program = new Command('gantry')
  .description('Gantry: one platform for a cluster resource pool, batch jobs, CI pipelines, a private registry and apps')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerServerCommand(program);
registerAgentCommand(program);
registerRunCommand(program);
registerAgentCommands(program);
registerImageCommands(program);
registerTaskCommands(program);
registerRegistryCommands(program);
registerJobCommands(program);
registerCiCommands(program);
registerDiscoveryCommands(program);
registerAppCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof CliError) {
    process.stderr.write(`gantry: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof GantryError) {
    process.stderr.write(`gantry: ${err.message}\n`);
    process.exit(err.status === 400 ? 2 : 1);
  }
  process.stderr.write(`gantry: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
