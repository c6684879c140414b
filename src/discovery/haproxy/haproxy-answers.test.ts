import { describe, expect, it } from 'vitest';
import { parseShowProc, parseShowStat } from './haproxy-answers.js';

// What HAProxy 2.6.12 printed in this repository's experiments.
const AFTER_FAILED = `#<PID>          <type>          <reloads>       <uptime>        <version>
5263            master          1 [failed: 1]   0d00h10m11s     2.6.12-1+deb12u3
# workers
5266            worker          1               0d00h10m11s     2.6.12-1+deb12u3
# programs
`;
const AFTER_OK = `#<PID>          <type>          <reloads>       <uptime>        <version>
5263            master          2 [failed: 0]   0d00h10m27s     2.6.12-1+deb12u3
# workers
23350           worker          0               0d00h00m01s     2.6.12-1+deb12u3
# old workers
5266            worker          2               0d00h10m27s     2.6.12-1+deb12u3
# programs
`;

describe('HAProxy answers', () => {
  it('reads the master reload and failure counters and the current workers from show proc', () => {
    expect(parseShowProc(AFTER_FAILED)).toEqual({ masterPid: 5263, reloads: 1, failed: 1, workers: [{ pid: 5266, reloads: 1 }] });
    expect(parseShowProc(AFTER_OK)).toEqual({ masterPid: 5263, reloads: 2, failed: 0, workers: [{ pid: 23350, reloads: 0 }] });
    expect(parseShowProc('Unknown command.\n')).toBeUndefined();
  });

  it('reads server states from show stat, skipping frontends and backends', () => {
    const csv = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\nfe1,FRONTEND,,,0,0,262121,4,0,0,0,0,0,,,,,OPEN\nbe1,slot1,0,0,0,1,,7,0,0,,0,,0,0,0,0,UP\nbe1,slot2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT\nbe1,BACKEND,0,0,0,1,,7,0,0,0,0,,0,0,0,0,UP\n';
    expect(parseShowStat(csv)).toEqual([
      { backend: 'be1', server: 'slot1', status: 'UP', sessions: 7 },
      { backend: 'be1', server: 'slot2', status: 'MAINT', sessions: 0 },
    ]);
  });
});
