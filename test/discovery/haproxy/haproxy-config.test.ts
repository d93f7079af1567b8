// The HAProxy configuration and its server slots, as tables: what a model renders to (tcp, http with
// virtual hosts and paths in order, the operator's variant), how servers keep their slots, which changes
// are runtime commands and which need a reload; the parsers of HAProxy's answers. Every rendered
// configuration is also checked by the real `haproxy -c`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { assignSlots, configStructure, drainingSlots, parseShowProc, parseShowStat, reasonOf, renderHaproxyConfig, slotChanges, slotCount, type SlotTable } from '../../../src/discovery/haproxy/index.ts';
import type { LbModel, LbRoute, LbServer } from '../../../src/discovery/model.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';
import { HAPROXY, requireHaproxy } from './helpers.ts';

const run = promisify(execFile);

const srv = (id: string, port: number, more: Partial<LbServer> = {}): LbServer => ({ id, appId: '/prod/web', address: '10.0.0.1', port, weight: 1, draining: false, ...more });
const rt = (name: string, servers: LbServer[], more: Partial<LbRoute> = {}): LbRoute => ({ name, appIds: ['/prod/web'], hosts: [], pathPrefix: null, balance: 'roundrobin', servers, ...more });
const managed = { bindHost: '0.0.0.0', statsSocket: '/run/gantry/haproxy.sock', pidFile: '/run/gantry/haproxy.pid' };

/** The lines of one section (`frontend x`, `backend y`) of a configuration, indentation removed. */
function section(config: string, header: string): string[] {
  const lines = config.split('\n');
  const start = lines.indexOf(header);
  assert.notEqual(start, -1, `no section ${header} in\n${config}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    out.push(line.trim());
  }
  return out;
}

const tcpModel: LbModel = { version: 3, listeners: [{ port: 10001, mode: 'tcp', routes: [rt('prod_web_10001', [srv('t1:0', 31001), srv('t2:0', 31002, { weight: 5 })], { balance: 'leastconn' })] }] };

const httpModel: LbModel = {
  version: 4,
  listeners: [
    {
      port: 80,
      mode: 'http',
      routes: [
        rt('api_vhost_0', [srv('a1:0', 32001)], { hosts: ['api.example.com', 'www.example.com'], pathPrefix: '/v1/' }),
        rt('web_vhost_0', [srv('w1:0', 32002)], { hosts: ['www.example.com'] }),
        rt('static_vhost_0', [srv('s1:0', 32003)], { pathPrefix: '/static', balance: 'source' }),
      ],
    },
  ],
};

describe('HAProxy configuration', () => {
  describe('renderHaproxyConfig', () => {
    const cases: Array<{ name: string; model: LbModel; options?: object; sections: Record<string, string[]> }> = [
      {
        name: 'a tcp listener: one frontend, one backend of 8 slots, the servers first and the rest disabled',
        model: tcpModel,
        sections: {
          'frontend listener_10001': ['bind 0.0.0.0:10001', 'mode tcp', 'default_backend prod_web_10001'],
          'backend prod_web_10001': [
            'mode tcp',
            'balance leastconn',
            'server s1 10.0.0.1:31001 weight 1  # t1:0',
            'server s2 10.0.0.1:31002 weight 5  # t2:0',
            ...[3, 4, 5, 6, 7, 8].map((n) => `server s${n} 127.0.0.1:1 disabled weight 1`),
          ],
        },
      },
      {
        name: 'http: routes by host (port stripped, lower case) and path, in the model order, then 503',
        model: httpModel,
        sections: {
          'frontend listener_80': [
            'bind 0.0.0.0:80',
            'mode http',
            'http-request set-var(txn.gantry_host) req.hdr(host),lower,regsub(:[0-9]+$,)',
            'acl route0_host var(txn.gantry_host) -m str api.example.com www.example.com',
            'acl route0_path path /v1',
            'acl route0_path path_beg /v1/',
            'use_backend api_vhost_0 if route0_host route0_path',
            'acl route1_host var(txn.gantry_host) -m str www.example.com',
            'use_backend web_vhost_0 if route1_host',
            'acl route2_path path /static',
            'acl route2_path path_beg /static/',
            'use_backend static_vhost_0 if route2_path',
            'default_backend gantry_no_route',
          ],
          'backend static_vhost_0': ['mode http', 'balance source', 'hash-type consistent', 'retry-on conn-failure empty-response', 'server s1 10.0.0.1:32003 weight 1  # s1:0', ...[2, 3, 4, 5, 6, 7, 8].map((n) => `server s${n} 127.0.0.1:1 disabled weight 1`)],
          'backend gantry_no_route': ['mode http', `http-request return status 503 content-type text/plain lf-string "gantry: no route for host '%[var(txn.gantry_host)]' and path '%[path]'\\n"`],
        },
      },
      {
        name: 'http with no route: everything is 503; a route for any host and path takes all',
        model: { version: 1, listeners: [{ port: 8080, mode: 'http', routes: [] }, { port: 8081, mode: 'http', routes: [rt('all', [])] }] },
        sections: {
          'frontend listener_8080': ['bind 0.0.0.0:8080', 'mode http', 'http-request set-var(txn.gantry_host) req.hdr(host),lower,regsub(:[0-9]+$,)', 'default_backend gantry_no_route'],
          'frontend listener_8081': ['bind 0.0.0.0:8081', 'mode http', 'http-request set-var(txn.gantry_host) req.hdr(host),lower,regsub(:[0-9]+$,)', 'use_backend all', 'default_backend gantry_no_route'],
        },
      },
      {
        name: 'names HAProxy would not take are replaced; hosts and paths it could misread never match',
        model: { version: 1, listeners: [{ port: 81, mode: 'http', routes: [rt('odd name#1', [], { hosts: ['bad host'], pathPrefix: '/a b' })] }] },
        sections: {
          'frontend listener_81': ['bind 0.0.0.0:81', 'mode http', 'http-request set-var(txn.gantry_host) req.hdr(host),lower,regsub(:[0-9]+$,)', 'acl route0_host always_false', 'acl route0_path always_false', 'use_backend odd_name_1 if route0_host route0_path', 'default_backend gantry_no_route'],
        },
      },
      {
        name: 'an IPv6 bind address and server are bracketed; a draining server starts at weight 0',
        model: { version: 1, listeners: [{ port: 10002, mode: 'tcp', routes: [rt('v6', [srv('x:0', 9000, { address: 'fd00::1', draining: true, weight: 3 })])] }] },
        options: { bindHost: '::' },
        sections: {
          'frontend listener_10002': ['bind [::]:10002', 'mode tcp', 'default_backend v6'],
          'backend v6': ['mode tcp', 'balance roundrobin', 'server s1 [fd00::1]:9000 weight 0  # x:0 (draining)', ...[2, 3, 4, 5, 6, 7, 8].map((n) => `server s${n} 127.0.0.1:1 disabled weight 1`)],
        },
      },
      {
        name: "the operator's variant: the servers as they are, no slots, no sockets, no master-worker",
        model: tcpModel,
        options: { slots: false, bindHost: '0.0.0.0' },
        sections: {
          global: ['hard-stop-after 300000ms'],
          'backend prod_web_10001': ['mode tcp', 'balance leastconn', 'server s1 10.0.0.1:31001 weight 1  # t1:0', 'server s2 10.0.0.1:31002 weight 5  # t2:0'],
        },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const config = renderHaproxyConfig(c.model, { ...managed, ...c.options });
        for (const [header, lines] of Object.entries(c.sections)) assert.deepEqual(section(config, header), lines, header);
      });
    }

    it('the managed global section: master-worker, the admin socket handing listeners over, pid file, hard-stop-after', () => {
      const config = renderHaproxyConfig(tcpModel, { ...managed, hardStopAfterMs: 5000 });
      assert.deepEqual(section(config, 'global'), ['master-worker', 'stats socket /run/gantry/haproxy.sock mode 600 level admin expose-fd listeners', 'pidfile /run/gantry/haproxy.pid', 'hard-stop-after 5000ms', 'mworker-max-reloads 50']);
      const defaults = section(config, 'defaults');
      for (const line of ['retries 3', 'option redispatch 1', 'option dontlognull', 'option idle-close-on-response']) assert.ok(defaults.includes(line), line);
    });

    it('the same route under two listeners is one backend', () => {
      const shared = rt('shared', [srv('a:0', 1)]);
      const config = renderHaproxyConfig({ version: 1, listeners: [{ port: 1001, mode: 'tcp', routes: [shared] }, { port: 1002, mode: 'tcp', routes: [shared] }] }, managed);
      assert.equal(config.split('\n').filter((line) => line === 'backend shared').length, 1);
    });

    it('haproxy -c accepts every configuration above', async function () {
      requireHaproxy(this);
      const dir = tempDir('haproxy-config');
      const configs = [...cases.map((c) => renderHaproxyConfig(c.model, { ...managed, statsSocket: path.join(dir, 's.sock'), pidFile: path.join(dir, 'p.pid'), ...c.options }))];
      for (const [index, config] of configs.entries()) {
        const file = path.join(dir, `${index}.cfg`);
        writeFileSync(file, config);
        await run(HAPROXY, ['-c', '-q', '-f', file]).catch((err: Error & { stderr: string }) => assert.fail(`${cases[index]!.name}:\n${err.stderr}\n${config}`));
      }
    });
  });

  describe('configStructure', () => {
    it('is the same when only servers differ, different when a host does', () => {
      const a = renderHaproxyConfig(httpModel, managed);
      const fewer = { ...httpModel, version: 9, listeners: [{ ...httpModel.listeners[0]!, routes: httpModel.listeners[0]!.routes.map((r) => ({ ...r, servers: [] })) }] };
      assert.equal(configStructure(renderHaproxyConfig(fewer, managed)), configStructure(a));
      const otherHost = { ...httpModel, listeners: [{ ...httpModel.listeners[0]!, routes: httpModel.listeners[0]!.routes.map((r, i) => (i === 1 ? { ...r, hosts: ['other.example.com'] } : r)) }] };
      assert.notEqual(configStructure(renderHaproxyConfig(otherHost, managed)), configStructure(a));
    });
  });

  describe('slots', () => {
    const oneRoute = (servers: LbServer[]): LbModel => ({ version: 1, listeners: [{ port: 1, mode: 'tcp', routes: [rt('r', servers)] }] });
    const ids = (table: SlotTable): Array<string | null> => table.get('r')!.map((slot) => slot?.id ?? null);
    const many = (n: number, prefix = 't'): LbServer[] => Array.from({ length: n }, (_, i) => srv(`${prefix}${i}`, 1000 + i));

    it('counts: a power of two, at least 8', () => {
      assert.deepEqual([0, 1, 8, 9, 16, 17, 100].map(slotCount), [8, 8, 8, 16, 16, 32, 128]);
    });

    const cases: Array<{ name: string; before: LbServer[] | null; after: LbServer[]; slots: Array<string | null> }> = [
      { name: 'fresh: in model order', before: null, after: many(3), slots: ['t0', 't1', 't2', null, null, null, null, null] },
      { name: 'a server keeps its slot; a new one takes the lowest free', before: many(3), after: [srv('t1', 1), srv('t2', 2), srv('n', 3)], slots: ['n', 't1', 't2', null, null, null, null, null] },
      { name: 'removed: its slot empties, the others stay', before: many(3), after: [srv('t0', 1), srv('t2', 2)], slots: ['t0', null, 't2', null, null, null, null, null] },
      { name: 'outgrown: the next power of two, the first 8 in place', before: many(8), after: [...many(8), srv('n', 9)], slots: ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 'n', ...Array<null>(7).fill(null)] },
      { name: 'never shrinks while the route lives', before: many(9), after: many(1), slots: ['t0', ...Array<null>(15).fill(null)] },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const previous = c.before === null ? undefined : assignSlots(oneRoute(c.before));
        assert.deepEqual(ids(assignSlots(oneRoute(c.after), previous)), c.slots);
      });
    }

    it('runtime changes: replaced (through maint), drained, re-weighted, moved, removed; none for no change', () => {
      const before = assignSlots(oneRoute([srv('a', 1), srv('b', 2), srv('c', 3), srv('d', 4)]));
      const after = assignSlots(oneRoute([srv('b', 2, { draining: true }), srv('c', 3, { weight: 7 }), srv('d', 5, { address: '10.0.0.9' }), srv('e', 6)]), before);
      assert.deepEqual(slotChanges(before, after), [
        { route: 'r', slot: 0, state: 'maint' },
        { route: 'r', slot: 0, address: '10.0.0.1', port: 6, weight: 1, state: 'ready' },
        { route: 'r', slot: 1, state: 'drain' },
        { route: 'r', slot: 2, weight: 7 },
        { route: 'r', slot: 3, address: '10.0.0.9', port: 5 },
      ]);
      assert.deepEqual(slotChanges(after, assignSlots(oneRoute([srv('e', 6)]), after)), [
        { route: 'r', slot: 1, state: 'maint' },
        { route: 'r', slot: 2, state: 'maint' },
        { route: 'r', slot: 3, state: 'maint' },
      ]);
      assert.deepEqual(slotChanges(after, after), []);
    });

    it('no runtime changes for a new route, a grown route, or an address that is not an IP', () => {
      const before = assignSlots(oneRoute(many(8)));
      assert.equal(slotChanges(before, assignSlots(oneRoute(many(9)), before)), null);
      assert.equal(slotChanges(before, assignSlots({ version: 1, listeners: [{ port: 1, mode: 'tcp', routes: [rt('r', many(8)), rt('q', [])] }] }, before)), null);
      assert.equal(slotChanges(before, assignSlots(oneRoute([...many(7), srv('host', 1, { address: 'agent-1.example.com' })]), before)), null);
    });

    it('draining servers are put in drain, with their weight, after a start', () => {
      const table = assignSlots(oneRoute([srv('a', 1), srv('b', 2, { draining: true, weight: 4 })]));
      assert.deepEqual(drainingSlots(table), [{ route: 'r', slot: 1, weight: 4, state: 'drain' }]);
    });
  });

  describe("HAProxy's answers", () => {
    it('show stat: the servers, by column name', () => {
      const csv = [
        '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,addr',
        'listener_1,FRONTEND,,,0,1,2000,1,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,',
        'r,s1,0,0,2,2,,5,0,0,,0,,0,0,0,0,no check,1,1,0,,,9,,,1,3,1,,5,,2,0,,1,,10.0.0.1:80',
        'r,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,3,1,0,,,9,,,1,3,2,,0,,2,0,,0,,10.0.0.2:80',
        'r,BACKEND,0,0,2,2,200,5,0,0,0,0,,0,0,0,0,UP,4,2,0,,0,9,0,,1,3,0,,5,,1,0,,1,,',
      ].join('\n');
      assert.deepEqual(parseShowStat(csv), [
        { backend: 'r', server: 's1', status: 'no check', scur: 2, weight: 1, addr: '10.0.0.1:80', checkStatus: null },
        { backend: 'r', server: 's2', status: 'DRAIN', scur: 0, weight: 3, addr: '10.0.0.2:80', checkStatus: null },
      ]);
    });

    it('show proc: master, reloads, current and old workers', () => {
      const text = [
        '#<PID>          <type>          <reloads>       <uptime>        <version>',
        '10747           master          2 [failed: 1]   0d00h20m22s     2.6.12-1+deb12u4',
        '# workers',
        '19198           worker          0               0d00h00m00s     2.6.12-1+deb12u4',
        '# old workers',
        '10750           worker          1               0d00h20m16s     2.6.12-1+deb12u4',
        '# programs',
        '',
      ].join('\n');
      assert.deepEqual(parseShowProc(text), { masterPid: 10747, reloads: 2, failedReloads: 1, workers: [19198], oldWorkers: [10750] });
      assert.equal(parseShowProc('Unknown command'), null);
    });

    it("reasons: HAProxy's alerts without their prefixes or the closing summaries", () => {
      const lines = [
        '[NOTICE]   (19585) : haproxy version is 2.6.12-1+deb12u4',
        "[ALERT]    (19585) : config : parsing [b.cfg:23] : 'bind' : invalid port '70000'",
        '[ALERT]    (19585) : config : Error(s) found in configuration file : b.cfg',
        '[ALERT]    (19585) : config : Fatal errors found in configuration.',
      ];
      assert.equal(reasonOf(lines), "config : parsing [b.cfg:23] : 'bind' : invalid port '70000'");
      assert.equal(reasonOf(lines.slice(0, 1)), null);
    });
  });
});
