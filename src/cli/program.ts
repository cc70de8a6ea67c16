import { Command } from 'commander';
import { bookingsCommand } from './bookings';
import { eightByEightCommand } from './eightByEight';
import { eventsCommand } from './events';
import { numbersCommand } from './numbers';
import { poolCommand } from './pool';
import { simulateCommand } from './simulate';

/**
 * `maskline <command>` (`npx maskline`, `npm run cli --`): the operator's tool. Going live with 8x8 (webhooks,
 * number sync), the number pool, bookings, and playing 8x8's part in development.
 */
export function createProgram(): Command {
  const program = new Command('maskline')
    .description('Number masking over 8x8: operate the number pool, the 8x8 subaccount and bookings')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.addCommand(eightByEightCommand());
  program.addCommand(numbersCommand());
  program.addCommand(poolCommand());
  program.addCommand(bookingsCommand());
  program.addCommand(simulateCommand());
  program.addCommand(eventsCommand());
  // Commander copies these settings only to subcommands made with .command(); ours are added, so copy them down.
  const inherit = (parent: Command) =>
    parent.commands.forEach((command) => {
      command.copyInheritedSettings(parent);
      inherit(command);
    });
  inherit(program);
  return program;
}
