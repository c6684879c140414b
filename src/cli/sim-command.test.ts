import { describe, expect, it } from 'vitest';
import { DEFAULT_RAMP } from '../sim/index.js';
import { simCommand } from './sim-command.js';
import { testContext } from './test-helpers.js';

describe('gantry sim', () => {
  it("states the simulator's own ramp in its help (the sim modules load only when it runs)", () => {
    const help = simCommand(testContext()).helpInformation();
    expect(help.replace(/\s+/g, ' ')).toContain(`registered (default ${DEFAULT_RAMP})`);
  });
});
