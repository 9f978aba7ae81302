// A real SLURM cluster of one node on loopback, for the tests: Debian's munge, slurmctld and
// slurmd, each of its own files and ports (munge on a private socket), a second Docker daemon as
// the compute node's engine (its own data root, exec root and bridge), and the Distribution
// registry with htpasswd auth, which the node's engine logs in to with its own DOCKER_CONFIG.
// Every process is started under `timeout` (it stops by itself should the tests never stop it)
// and stopped by its PID.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { freePort, startRegistry, type TestRegistry } from './registry.js';

export interface TestCluster {
  /** SLURM_CONF, for sbatch, squeue and scancel (Nextflow's slurm executor runs them). */
  slurmConf: string;
  /** The compute node's Docker daemon (DOCKER_HOST), and the Docker config it logs in with. */
  node: { host: string; dockerConfig: string };
  /** The registry (host:port) and its login; `stored()`: all the bytes it stores (what pushes uploaded). */
  registry: { host: string; user: string; password: string; stored(): number };
  /** A Docker config on this machine logged in to the registry: what nfhot pushes with. */
  dockerConfig: string;
  /** The config a run adds (-c): each job's `docker` talks to the node's daemon, logged in. */
  runConfig: string;
  stop(): Promise<void>;
}

/** What the cluster needs from the machine, or why it cannot run here. */
export async function clusterUnavailable(): Promise<string | undefined> {
  const missing = [
    'munged',
    'slurmctld',
    'slurmd',
    'sbatch',
    'squeue',
    'docker-registry',
    'htpasswd',
    'dockerd',
    'ip',
  ].filter((p) => !which(p));
  if (missing.length)
    return `missing ${missing.join(', ')} (scripts/setup.sh installs them: Debian's slurmctld, slurmd, slurm-client, munge)`;
  if (process.getuid?.() !== 0) return 'the node daemon and slurmd need root';
  return undefined;
}

function which(program: string): boolean {
  return (process.env.PATH ?? '/usr/bin')
    .split(':')
    .concat('/usr/sbin', '/sbin')
    .some((d) => existsSync(join(d, program)));
}

async function until(
  what: string,
  ready: () => Promise<boolean>,
  servers: ResultPromise[],
  logs: string[],
): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await ready()) return;
    if (servers.some((s) => s.exitCode !== null)) break;
    await sleep(200);
  }
  const said = logs
    .filter(existsSync)
    .map((l) => `${l}:\n${readFileSync(l, 'utf8').slice(-1500)}`)
    .join('\n');
  throw new Error(`${what} did not start\n${said}`);
}

/** Starts the cluster; `images` are loaded into the node's engine from this one (the pipeline's originals, as a node that ran them before has them). */
export async function startCluster({
  images = [],
  seconds = 3600,
}: {
  images?: string[];
  seconds?: number;
} = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nfhot-cluster-'));
  const servers: ResultPromise[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // munge: its key, socket and files in a directory only root reads.
    const munge = join(dir, 'munge');
    mkdirSync(munge, { mode: 0o700 });
    await execa('mungekey', ['--create', `--keyfile=${join(munge, 'munge.key')}`]);
    const socket = join(munge, 'munge.sock');
    const mungeArgs = [
      'munged',
      '--foreground',
      `--socket=${socket}`,
      `--key-file=${join(munge, 'munge.key')}`,
      `--pid-file=${join(munge, 'munged.pid')}`,
      `--log-file=${join(munge, 'munged.log')}`,
      `--seed-file=${join(munge, 'munged.seed')}`,
      '--force',
    ];
    const mungeServer = started(mungeArgs, seconds, servers, stops);
    await until(
      'munged',
      async () => (await execa('munge', ['-n', '-S', socket], { reject: false })).exitCode === 0,
      [mungeServer],
      [join(munge, 'munged.log')],
    );

    // SLURM: one node, its controller and its daemon on free loopback ports.
    const [ctld, slurmd] = [await freePort(), await freePort()];
    const slurmConf = join(dir, 'slurm.conf');
    writeFileSync(slurmConf, slurmConfig(dir, socket, ctld, slurmd));
    for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
    const env = { SLURM_CONF: slurmConf };
    const ctldServer = started(['slurmctld', '-D', '-f', slurmConf], seconds, servers, stops);
    const nodeServer = started(['slurmd', '-D', '-f', slurmConf, '-N', NODE], seconds, servers, stops);
    await until(
      'slurm',
      async () => /\bidle\b/.test((await execa('sinfo', ['-h', '-N', '-o', '%T'], { env, reject: false })).stdout),
      [ctldServer, nodeServer],
      [join(dir, 'slurmctld.log'), join(dir, 'slurmd.log')],
    );

    // The node's engine: a Docker daemon of its own (never --bridge none), the originals in it.
    const node: TestDaemon = await startTestDaemon('3g', images);
    stops.push(() => node.stop());
    const user = 'lab';
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const registry: TestRegistry = await startRegistry({ auth: { user, password }, seconds });
    stops.push(() => registry.stop());
    const nodeConfig = join(dir, 'node-docker');
    const hereConfig = join(dir, 'docker');
    for (const [config, host] of [
      [nodeConfig, node.host],
      [hereConfig, undefined],
    ] as const) {
      mkdirSync(config);
      await execa('docker', ['login', '-u', user, '--password-stdin', registry.host], {
        input: password,
        env: { DOCKER_CONFIG: config, ...(host ? { DOCKER_HOST: host } : {}) },
      });
    }
    const runConfig = join(dir, 'cluster.config');
    writeFileSync(
      runConfig,
      [
        "// The site: each job runs `docker` against the node's engine, logged in to the registry.",
        `process.clusterOptions = '--export=ALL,DOCKER_HOST=${node.host},DOCKER_CONFIG=${nodeConfig}'`,
        '// A one-node cluster answers at once: Nextflow need not wait its defaults between polls.',
        "executor {\n    pollInterval = '1 sec'\n    queueStatInterval = '1 sec'\n    submitRateLimit = '50/1s'\n}",
        '',
      ].join('\n'),
    );
    return {
      slurmConf,
      node: { host: node.host, dockerConfig: nodeConfig },
      registry: { host: registry.host, user, password, stored: () => storedBytes(registry.dataDir) },
      dockerConfig: hereConfig,
      runConfig,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const NODE = 'nfhot-node';

/** The bytes of the files under `dir` (none before the first push). */
function storedBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, f));
    if (s.isFile()) total += s.size;
  }
  return total;
}

function started(
  command: string[],
  seconds: number,
  servers: ResultPromise[],
  stops: (() => Promise<void>)[],
): ResultPromise {
  const server = execa('timeout', [String(seconds), ...command], {
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    cleanup: true,
  });
  servers.push(server);
  stops.push(async () => {
    server.kill('SIGTERM');
    await server;
  });
  return server;
}

function slurmConfig(dir: string, socket: string, ctld: number, slurmd: number): string {
  return `# One node on loopback, for nfhot's tests.
ClusterName=nfhot
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ctld}
SlurmdPort=${slurmd}
AuthType=auth/munge
AuthInfo=socket=${socket}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${join(dir, 'state')}
SlurmdSpoolDir=${join(dir, 'spool')}
SlurmctldPidFile=${join(dir, 'slurmctld.pid')}
SlurmdPidFile=${join(dir, 'slurmd.pid')}
SlurmctldLogFile=${join(dir, 'slurmctld.log')}
SlurmdLogFile=${join(dir, 'slurmd.log')}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=${NODE} NodeHostname=${hostname()} NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
`;
}
