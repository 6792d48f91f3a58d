// Where this process runs: a bare host, or which container runtime (and orchestrator), from what a
// process can read about itself. Plain data for reports and remediation text; "cannot tell" is null.
//
// Signs, strongest first when they disagree (each seen sign goes to `evidence`):
//  1. gVisor: /proc/gvisor/kernel_is_gvisor (runsc --gvisor-marker-file), /proc/gvisor (recent
//     runsc creates it for checkpoint files), or the sentry's fixed /proc/version
//     ("#1 SMP Sun Jan 10 15:06:54 PST 2016", release 4.4.0 / x.y.z-gvisor). gVisor wins because it
//     decides io_uring on its own, whatever the outer engine (Docker, containerd) is.
//  2. Runtime-named cgroup paths in /proc/self/cgroup and /proc/1/cgroup: docker-<id>.scope,
//     /docker/<id>, cri-containerd-<id>.scope, nerdctl-<id>.scope, /default/<id> (nerdctl,
//     cgroupfs), crio-<id>[.scope], libpod-<id>[.scope], /lxc/<name>, lxc.payload.<name>,
//     machine.slice/systemd-nspawn@<name>.service, machine.slice/machine-<name>.scope; kubepods
//     means Kubernetes. The kernel writes these, an image cannot fake them; but a cgroup namespace
//     (Docker and Podman default on cgroup v2) shows `0::/` instead, which says nothing.
//  3. The manager's own word (systemd's container interface): /run/host/container-manager, PID 1's
//     `container=` (NUL-separated /proc/1/environ, often unreadable: skipped), /run/systemd/container
//     (systemd as PID 1 copies `container=` there). Podman sets container=podman, LXC container=lxc,
//     systemd-nspawn container=systemd-nspawn, CRI-O container=crio (only for systemd containers).
//     `oci` names no manager.
//  4. Bind-mount sources in /proc/self/mountinfo: Docker's .../containers/<id>/hostname|hosts|
//     resolv.conf, containers/storage's overlay-containers/<id>/userdata/ (Podman or CRI-O),
//     containerd CRI's io.containerd.grpc.v1.cri/sandboxes/, kubelet's /kubelet/pods/<uid>/.
//  5. Marker files: /run/.containerenv (Podman; its `engine="podman-X"` line only with --privileged;
//     buildah and, since cri-o PR #5463, CRI-O create it too, so with Kubernetes signs it means
//     CRI-O), then /.dockerenv (Docker; systemd checks it last, as images can carry it).
//  6. `container=` in our own environment (an image ENV can set it, so weak).
//  7. WSL: "microsoft" or "WSL" in /proc/sys/kernel/osrelease or /proc/version (Microsoft/WSL#423).
//  8. A PID namespace other than the initial one (/proc/self/ns/pid inode != 0xEFFFFFFC): some
//     container or sandbox, runtime unknown (systemd's "container-other").
// Kubernetes (orchestrator): KUBERNETES_SERVICE_HOST, the service-account directory, kubepods
// cgroups, kubelet pod mounts. An overlay root filesystem is recorded but never decides anything.
//
// inContainer: true on any sign above (or Kubernetes); false when the cgroup path is a visible
// host-like path (e.g. /user.slice/...) and nothing else points at a container; null otherwise
// (typically `0::/` with no marker: a private cgroup namespace, or a process in the root cgroup).
// runtime: the named runtime, 'unknown-container' when inContainer is true without a runtime sign,
// null when inContainer is false or null. cannotTell says what was missing when runtime is
// 'unknown-container' or inContainer is null.
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readTextOrNull } from '../host.js';

export type ContainerRuntime =
  | 'docker'
  | 'containerd'
  | 'cri-o'
  | 'podman'
  | 'systemd-nspawn'
  | 'lxc'
  | 'gvisor'
  | 'wsl'
  | 'unknown-container';

export interface ContainerInfo {
  /** null = cannot tell */
  inContainer: boolean | null;
  /** null when not in a container or cannot tell whether we are; 'unknown-container' when in one of unknown kind */
  runtime: ContainerRuntime | null;
  orchestrator: 'kubernetes' | null;
  cgroupVersion: 1 | 2 | null;
  /** this process's cgroup (v2 unified path, or the most telling v1 line) */
  cgroupPath: string | null;
  /** 64-hex id when a cgroup path, a bind-mount source or /run/.containerenv shows one */
  containerId: string | null;
  /** each sign seen, in the order checked */
  evidence: string[];
  /** when the runtime (or whether this is a container at all) is unknown: which signs were missing */
  cannotTell: string | null;
}

export interface ContainerSources {
  readText(path: string): string | null;
  exists(path: string): boolean;
  env: NodeJS.ProcessEnv;
  /** symlink target, or null (optional: without it the PID-namespace sign is skipped) */
  readLink?(path: string): string | null;
}

export type ContainerProblem = 'seccomp' | 'memlock' | 'sysctl' | 'sandbox';

/** The real filesystem at / and process.env. */
export function hostSources(): ContainerSources {
  return sourcesAt('/', process.env);
}

/** A fake (or mounted) root: '/x' is read as '<root>/x'. */
export function sourcesAt(root: string, env: NodeJS.ProcessEnv = {}): ContainerSources {
  const at = (path: string): string => (root === '/' ? path : join(root, path));
  return {
    readText: (path) => readTextOrNull(at(path)),
    exists: (path) => existsSync(at(path)),
    env,
    readLink: (path) => {
      try {
        return readlinkSync(at(path));
      } catch {
        return null;
      }
    },
  };
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Inode of the initial PID namespace (PROC_PID_INIT_INO, fixed since Linux 3.8). */
const INITIAL_PID_NS = 'pid:[4026531836]';
const GVISOR_VERSION = '#1 SMP Sun Jan 10 15:06:54 PST 2016';

interface CgroupLine {
  hierarchy: string;
  controllers: string;
  path: string;
}

function parseCgroup(text: string | null): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const raw of (text ?? '').split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    // A dead cgroup on the unified hierarchy is printed with a " (deleted)" suffix.
    const path = line.slice(b + 1).replace(/ \(deleted\)$/, '');
    lines.push({ hierarchy: line.slice(0, a), controllers: line.slice(a + 1, b), path });
  }
  return lines;
}

interface PathMatch {
  runtime: ContainerRuntime | null;
  id: string | null;
  kubernetes: boolean;
}

/** What a cgroup path names, or null when it names nothing container-like. */
export function matchCgroupPath(path: string): PathMatch | null {
  const segs = path.split('/').filter(Boolean);
  let runtime: ContainerRuntime | null = null;
  let id: string | null = null;
  let kubernetes = false;
  const set = (r: ContainerRuntime, i: string | null): void => {
    runtime = r;
    if (i !== null) id = i;
  };
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] ?? '';
    const next = segs[i + 1] ?? '';
    let m: RegExpExecArray | null;
    if (seg.startsWith('kubepods')) kubernetes = true;
    if ((m = /^docker-([0-9a-f]{64})\.scope$/.exec(seg))) set('docker', m[1] ?? null);
    else if ((m = /^cri-containerd-([0-9a-f]{64})\.scope$/.exec(seg))) set('containerd', m[1] ?? null);
    else if ((m = /^nerdctl-([0-9a-f]{64})\.scope$/.exec(seg))) set('containerd', m[1] ?? null);
    else if ((m = /^crio-([0-9a-f]{64})(?:\.scope)?$/.exec(seg))) set('cri-o', m[1] ?? null);
    else if ((m = /^libpod-([0-9a-f]{64})(?:\.scope)?$/.exec(seg))) set('podman', m[1] ?? null);
    else if (seg === 'libpod_parent') set('podman', null);
    else if (seg === 'docker' && HEX64.test(next)) set('docker', next);
    else if (i === 0 && seg === 'default' && HEX64.test(next)) set('containerd', next);
    else if (seg === 'lxc' && next) set('lxc', null);
    else if (/^lxc\.payload(?:[.-].+)?$/.test(seg)) set('lxc', null);
    else if (seg === 'machine.slice') {
      if (/^systemd-nspawn@.+\.service$/.test(next)) set('systemd-nspawn', null);
      else if (/^machine-lxc\\x2d.+\.scope$/.test(next)) set('lxc', null);
      else if (/^machine-.+\.scope$/.test(next) && !/^machine-qemu/.test(next)) set('systemd-nspawn', null);
    } else if (kubernetes && HEX64.test(seg)) id = seg; // cgroupfs driver: no runtime prefix
  }
  if (runtime === null && id === null && !kubernetes) return null;
  return { runtime, id, kubernetes };
}

/** `container=` value (systemd's names) -> runtime; 'oci' names no manager; '' says "not a container". */
function runtimeFromManager(value: string): ContainerRuntime | 'oci' | 'none' {
  switch (value) {
    case '':
      return 'none';
    case 'oci':
      return 'oci';
    case 'docker':
      return 'docker';
    case 'podman':
      return 'podman';
    case 'lxc':
    case 'lxc-libvirt':
      return 'lxc';
    case 'systemd-nspawn':
      return 'systemd-nspawn';
    case 'crio':
      return 'cri-o';
    case 'containerd':
      return 'containerd';
    case 'wsl':
      return 'wsl';
    default:
      return 'unknown-container';
  }
}

/** `container` from a NUL-separated environ block, or undefined when absent. */
function environValue(environ: string, key: string): string | undefined {
  for (const entry of environ.split('\0')) {
    if (entry.startsWith(`${key}=`)) return entry.slice(key.length + 1);
  }
  return undefined;
}

function oneLine(text: string | null): string | null {
  if (text === null) return null;
  return text.split('\n')[0]?.trim() ?? '';
}

export function detectContainer(sources: ContainerSources = hostSources()): ContainerInfo {
  const evidence: string[] = [];
  const missing: string[] = [];
  const note = (s: string): void => {
    if (!evidence.includes(s)) evidence.push(s);
  };
  // Runtime candidates: lowest rank wins (see the header).
  const votes: Array<{ runtime: ContainerRuntime; rank: number }> = [];
  const vote = (runtime: ContainerRuntime, rank: number): void => {
    votes.push({ runtime, rank });
  };
  let containerSign = false;
  let kubernetes = false;
  let containerId: string | null = null;

  // 1. gVisor
  if (sources.exists('/proc/gvisor/kernel_is_gvisor')) {
    note('/proc/gvisor/kernel_is_gvisor exists (runsc --gvisor-marker-file)');
    vote('gvisor', 0);
  } else if (sources.exists('/proc/gvisor')) {
    note('/proc/gvisor exists (created by recent runsc)');
    vote('gvisor', 0);
  }
  const procVersion = oneLine(sources.readText('/proc/version'));
  const osRelease = oneLine(sources.readText('/proc/sys/kernel/osrelease'));
  if (procVersion && (procVersion.includes(GVISOR_VERSION) || /\d-gvisor\b/.test(procVersion))) {
    note(`/proc/version: ${procVersion} (gVisor's fixed kernel version)`);
    vote('gvisor', 0);
  }

  // 2. cgroups
  const selfLines = parseCgroup(sources.readText('/proc/self/cgroup'));
  const pid1Lines = parseCgroup(sources.readText('/proc/1/cgroup'));
  const unified = selfLines.find((l) => l.hierarchy === '0' && l.controllers === '');
  const v1Lines = selfLines.filter((l) => !(l.hierarchy === '0' && l.controllers === ''));
  let cgroupVersion: 1 | 2 | null = null;
  if (sources.exists('/sys/fs/cgroup/cgroup.controllers')) cgroupVersion = 2;
  else if (v1Lines.length > 0) cgroupVersion = 1;
  else if (unified) cgroupVersion = 2;

  // The first runtime-naming match wins (this process first, then PID 1); a match naming only
  // kubepods is kept until a better one turns up.
  let found: PathMatch | null = null;
  let matchedSelf: CgroupLine | null = null;
  for (const [label, lines] of [['/proc/self/cgroup', selfLines], ['/proc/1/cgroup', pid1Lines]] as const) {
    if (found?.runtime) break;
    for (const line of lines) {
      const m = matchCgroupPath(line.path);
      if (!m) continue;
      note(`${label}: ${line.path}`);
      if (label === '/proc/self/cgroup') matchedSelf ??= line;
      if (found === null || (found.runtime === null && m.runtime !== null)) found = m;
      if (m.runtime !== null) break;
    }
  }
  if (found) {
    containerSign = true;
    if (found.runtime) vote(found.runtime, 1);
    if (found.kubernetes) kubernetes = true;
    if (found.id) containerId = found.id;
  }

  let cgroupPath: string | null = null;
  if (cgroupVersion === 2 || (cgroupVersion === null && unified)) {
    cgroupPath = unified?.path ?? null;
  } else if (cgroupVersion === 1) {
    const chosen: CgroupLine | undefined =
      matchedSelf ??
      v1Lines.find((l) => l.controllers === 'name=systemd' && l.path !== '/') ??
      v1Lines.find((l) => l.path !== '/') ??
      v1Lines[0];
    cgroupPath = chosen?.path ?? null;
  }
  // v2 path hidden: `0::/` for this process, and no v1 line shows more.
  const hidden = unified?.path === '/' && v1Lines.every((l) => l.path === '/');
  // A visible path that names no container: what a host (or a container without signs) shows.
  const hostLike =
    !found && selfLines.some((l) => l.path !== '/' && l.path !== '') && !hidden;
  if (hidden) note('/proc/self/cgroup: 0::/ (path hidden: a cgroup namespace, or the root cgroup)');
  if (selfLines.length === 0) missing.push('/proc/self/cgroup unreadable');
  else if (hidden) missing.push('cgroup path hidden by a cgroup namespace (0::/)');
  else if (!found || found.runtime === null) missing.push('no runtime-named cgroup path');

  // 3. The manager's own word
  let managerNone = false; // PID 1's container= is set and empty: systemd's "not a container"
  const manager = (value: string, label: string, rank: number): void => {
    const r = runtimeFromManager(value);
    if (r === 'none') {
      if (label.startsWith('PID 1')) managerNone = true;
      return;
    }
    note(`${label}${value}`);
    containerSign = true;
    if (r !== 'oci' && r !== 'unknown-container') vote(r, rank);
  };
  const hostManager = oneLine(sources.readText('/run/host/container-manager'));
  if (hostManager) manager(hostManager, '/run/host/container-manager: ', 2);
  const pid1Environ = sources.readText('/proc/1/environ');
  if (pid1Environ === null) {
    missing.push('PID 1 environ unreadable');
  } else {
    const v = environValue(pid1Environ, 'container');
    if (v !== undefined) manager(v, 'PID 1 environ container=', 2);
    else missing.push('no container= in PID 1 environ');
  }
  const systemdContainer = oneLine(sources.readText('/run/systemd/container'));
  if (systemdContainer) manager(systemdContainer, '/run/systemd/container: ', 2);
  else missing.push('no /run/systemd/container');

  // 4. Bind-mount sources
  const mountinfo = sources.readText('/proc/self/mountinfo') ?? '';
  let rootFsType: string | null = null;
  let storageContainer = false;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const root = fields[3] ?? '';
    if (fields[4] === '/') rootFsType = line.split(' - ')[1]?.split(' ')[0] ?? rootFsType;
    let m: RegExpExecArray | null;
    if ((m = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)$/.exec(root))) {
      note(`/proc/self/mountinfo: ${root} (Docker container directory)`);
      containerSign = true;
      vote('docker', 3);
      containerId ??= m[1] ?? null;
    } else if ((m = /\/overlay-containers\/([0-9a-f]{64})\/userdata\//.exec(root))) {
      note(`/proc/self/mountinfo: ${root} (containers/storage: Podman or CRI-O)`);
      containerSign = true;
      storageContainer = true;
      containerId ??= m[1] ?? null;
    } else if (/\/io\.containerd\.grpc\.v1\.cri\/sandboxes\//.test(root)) {
      note(`/proc/self/mountinfo: ${root} (containerd CRI)`);
      containerSign = true;
      vote('containerd', 3);
    } else if (/\/kubelet\/pods\/[0-9a-f-]{36}\//.test(root)) {
      note(`/proc/self/mountinfo: ${root} (kubelet pod volume)`);
      kubernetes = true;
    }
  }
  if (rootFsType === 'overlay') note('root filesystem is overlay (weak: hosts can boot from overlay too)');

  // Kubernetes
  if (sources.env.KUBERNETES_SERVICE_HOST) {
    note('KUBERNETES_SERVICE_HOST set');
    kubernetes = true;
  }
  for (const dir of ['/var/run/secrets/kubernetes.io/serviceaccount', '/run/secrets/kubernetes.io/serviceaccount']) {
    if (sources.exists(dir)) {
      note(`${dir} exists`);
      kubernetes = true;
      break;
    }
  }
  if (kubernetes) containerSign = true;
  if (storageContainer) vote(kubernetes ? 'cri-o' : 'podman', 3);

  // 5. Marker files
  const containerenv = sources.readText('/run/.containerenv');
  if (containerenv !== null || sources.exists('/run/.containerenv')) {
    const engine = (containerenv ?? '').split('\n').find((l) => l.startsWith('engine='));
    note(engine ? `/run/.containerenv: ${engine.trim()}` : '/run/.containerenv exists');
    const idLine = /^id="?([0-9a-f]{64})"?$/m.exec(containerenv ?? '');
    if (idLine) containerId ??= idLine[1] ?? null;
    containerSign = true;
    // Podman (and buildah) write it; so does CRI-O, the one Kubernetes runtime that does.
    if (engine && /podman/.test(engine)) vote('podman', 4);
    else vote(kubernetes ? 'cri-o' : 'podman', 4);
  } else {
    missing.push('no /run/.containerenv');
  }
  if (sources.exists('/.dockerenv')) {
    note('/.dockerenv exists');
    containerSign = true;
    vote('docker', 5);
  } else {
    missing.push('no /.dockerenv');
  }

  // 6. Our own environment
  const envContainer = sources.env.container;
  if (envContainer !== undefined) manager(envContainer, 'environment container=', 6);

  // 7. WSL
  const wslText = [osRelease, procVersion].find((t) => t && /microsoft|wsl/i.test(t));
  if (wslText) {
    note(`kernel release names WSL: ${wslText}`);
    containerSign = true;
    vote('wsl', 7);
  }

  // 8. PID namespace
  const pidNs = sources.readLink?.('/proc/self/ns/pid') ?? null;
  if (pidNs !== null && /^pid:\[\d+\]$/.test(pidNs) && pidNs !== INITIAL_PID_NS) {
    note(`PID namespace ${pidNs} is not the initial one (${INITIAL_PID_NS})`);
    containerSign = true;
  }

  if (managerNone && !containerSign) note('PID 1 environ container= (empty: not a container)');

  votes.sort((a, b) => a.rank - b.rank);
  const best = votes[0]?.runtime ?? null;
  let inContainer: boolean | null;
  if (containerSign) inContainer = true;
  else if (managerNone || hostLike) inContainer = false;
  else inContainer = null;

  const runtime: ContainerRuntime | null = inContainer === true ? best ?? 'unknown-container' : null;
  let cannotTell: string | null = null;
  if (runtime === 'unknown-container') {
    cannotTell = `in a container, but no sign names the runtime: ${missing.join('; ')}`;
  } else if (inContainer === null) {
    const overlay = rootFsType === 'overlay' ? '; the overlay root filesystem alone is not enough' : '';
    cannotTell = `no container sign, but nothing rules one out: ${missing.join('; ')}${overlay}`;
  }

  return {
    inContainer,
    runtime,
    orchestrator: kubernetes ? 'kubernetes' : null,
    cgroupVersion,
    cgroupPath,
    containerId: inContainer === true ? containerId : null,
    evidence,
    cannotTell,
  };
}

// ---------------------------------------------------------------------------------------------
// Remediation text. Each flag below was checked against its tool's documentation or source:
// docker/podman/nerdctl `--security-opt seccomp=<file>` and `--ulimit memlock=SOFT:HARD` (bytes);
// Kubernetes seccompProfile Localhost paths are relative to <kubelet root>/seccomp and there is
// no pod-level ulimit; containerd passes on its own RLIMIT_MEMLOCK (LimitMEMLOCK= on
// containerd.service); CRI-O `default_ulimits` in [crio.runtime]; systemd.nspawn(5)
// `SystemCallFilter=` and `LimitMEMLOCK=` in [Exec], systemd-nspawn `--system-call-filter=` and
// `--rlimit=`; lxc.container.conf `lxc.seccomp.profile` and `lxc.prlimit.memlock`; runsc
// `--iouring` ("TEST ONLY; ... experimental and very limited"; io_uring_setup returns ENOSYS
// without it and EINVAL for any setup flag with it). kernel.io_uring_disabled is registered
// once, globally (not per namespace), and Docker `--sysctl` / pod `securityContext.sysctls`
// only accept namespaced sysctls.

const SYSCALLS = 'io_uring_setup, io_uring_enter and io_uring_register';
const PROFILE_TOOL = '`uring-probe seccomp-profile --from <current profile> -o PROFILE.json` writes the least change';

const SECCOMP_DOCKER = `Docker: run with \`docker run --security-opt seccomp=PROFILE.json\`, a profile that allows ${SYSCALLS} (Docker >= 25's default profile blocks them); ${PROFILE_TOOL}.`;

function seccompKubernetes(runtime: ContainerRuntime | null): string {
  const runtimeNote =
    runtime === 'cri-o'
      ? "on CRI-O, RuntimeDefault is crio.conf's seccomp_profile (or its built-in profile)"
      : runtime === 'containerd'
        ? 'RuntimeDefault on containerd >= 2.0 blocks io_uring (1.6/1.7 allow it)'
        : 'RuntimeDefault blocks io_uring on containerd >= 2.0 and on Docker >= 25';
  return (
    `Kubernetes: set \`securityContext.seccompProfile: {type: Localhost, localhostProfile: profiles/io_uring.json}\` ` +
    `and install a profile that allows ${SYSCALLS} under the kubelet's seccomp directory ` +
    `(/var/lib/kubelet/seccomp/profiles/io_uring.json) on every node, because ${runtimeNote}; ${PROFILE_TOOL}.`
  );
}

const SANDBOX_GVISOR =
  'gVisor (runsc) implements io_uring only when started with `--iouring`, a flag its help marks TEST ONLY ' +
  '(experimental: no setup flags, few operations; without it io_uring_setup returns ENOSYS), so run this ' +
  'workload with runc (for example through another RuntimeClass) or keep the epoll path.';

const WSL_NOTE =
  'WSL: no container seccomp profile applies; io_uring failing with EPERM on WSL2 has been reported without a ' +
  'confirmed cause, so compare kernel.io_uring_disabled and the Seccomp: line of /proc/self/status inside the distribution.';

const SYSCTL_HOST =
  'kernel.io_uring_disabled is host-wide (not namespaced): change it on the host or node ' +
  '(`sysctl -w kernel.io_uring_disabled=0`, persisted in /etc/sysctl.d/), not in the container.';

function seccompText(info: ContainerInfo): string | null {
  if (info.runtime === 'gvisor') return SANDBOX_GVISOR;
  if (info.runtime === 'wsl') return WSL_NOTE;
  if (info.orchestrator === 'kubernetes') return seccompKubernetes(info.runtime);
  switch (info.runtime) {
    case 'docker':
      return SECCOMP_DOCKER;
    case 'podman':
      return `Podman: run with \`podman run --security-opt seccomp=PROFILE.json\`, a profile that allows ${SYSCALLS} (the containers-common default profile never allowed them); ${PROFILE_TOOL}.`;
    case 'containerd':
      return `containerd: run with \`nerdctl run --security-opt seccomp=PROFILE.json\`, a profile that allows ${SYSCALLS} (containerd >= 2.0's default profile blocks them); ${PROFILE_TOOL}.`;
    case 'cri-o':
      return seccompKubernetes('cri-o');
    case 'systemd-nspawn':
      return 'systemd-nspawn: allow them with `SystemCallFilter=io_uring_setup io_uring_enter io_uring_register` in the [Exec] section of /etc/systemd/nspawn/<machine>.nspawn, or `--system-call-filter="io_uring_setup io_uring_enter io_uring_register"` on the command line.';
    case 'lxc':
      return `LXC: point \`lxc.seccomp.profile\` in the container's config at a policy (LXC's own format, not Docker JSON) that does not deny ${SYSCALLS}, then restart the container.`;
    default:
      return null;
  }
}

function memlockKubernetes(runtime: ContainerRuntime | null): string {
  const containerd = 'containerd passes on its own limit (set LimitMEMLOCK= in a containerd.service drop-in)';
  const crio = 'CRI-O uses `default_ulimits = ["memlock=BYTES:BYTES"]` in crio.conf [crio.runtime], else its own limit';
  const which = runtime === 'containerd' ? containerd : runtime === 'cri-o' ? crio : `${containerd}; ${crio}`;
  return `Kubernetes has no per-pod ulimit: containers get RLIMIT_MEMLOCK from the node's runtime, so raise it there: ${which}.`;
}

const MEMLOCK_DOCKER =
  'Docker: `docker run --ulimit memlock=BYTES:BYTES` (bytes, not the KiB `ulimit -l` prints), or LimitMEMLOCK= on docker.service for every container.';

function memlockText(info: ContainerInfo): string | null {
  if (info.runtime === 'gvisor') return `Under gVisor memlock is not what blocks io_uring: ${SANDBOX_GVISOR}`;
  if (info.runtime === 'wsl') return 'WSL: raise it as on a bare host, inside the distribution (`ulimit -l`, or LimitMEMLOCK= for a systemd service).';
  if (info.orchestrator === 'kubernetes') return memlockKubernetes(info.runtime);
  switch (info.runtime) {
    case 'docker':
      return MEMLOCK_DOCKER;
    case 'podman':
      return 'Podman: `podman run --ulimit memlock=BYTES:BYTES` (bytes), or default_ulimits in containers.conf for every container.';
    case 'containerd':
      return 'containerd: `nerdctl run --ulimit memlock=BYTES:BYTES` (bytes); otherwise containers inherit the limit of the containerd service (LimitMEMLOCK=).';
    case 'cri-o':
      return memlockKubernetes('cri-o');
    case 'systemd-nspawn':
      return 'systemd-nspawn: `LimitMEMLOCK=BYTES` in the [Exec] section of the .nspawn file, or `--rlimit=RLIMIT_MEMLOCK=BYTES`.';
    case 'lxc':
      return "LXC: `lxc.prlimit.memlock = BYTES` (or unlimited) in the container's config; it cannot be raised from inside.";
    default:
      return null;
  }
}

function sysctlText(info: ContainerInfo): string | null {
  if (info.runtime === 'gvisor') {
    return "Under gVisor the host's kernel.io_uring_disabled is not what decides: the sentry implements io_uring itself, and only with runsc `--iouring`.";
  }
  if (info.runtime === 'wsl') {
    return 'WSL2 distributions share the WSL VM\'s kernel: kernel.io_uring_disabled is set there, as root (`sysctl -w kernel.io_uring_disabled=0`), for all of them at once.';
  }
  if (info.orchestrator === 'kubernetes') {
    return `${SYSCTL_HOST} Pod securityContext.sysctls only takes namespaced sysctls, so set it in the node's configuration.`;
  }
  switch (info.runtime) {
    case 'docker':
    case 'podman':
    case 'containerd':
      return `${SYSCTL_HOST} \`--sysctl\` only takes namespaced sysctls, so it cannot set this one.`;
    default:
      return SYSCTL_HOST;
  }
}

/** One or two sentences for this runtime, or null when there is nothing container-specific to say. */
export function containerRemediation(info: ContainerInfo, problem: ContainerProblem): string | null {
  if (info.inContainer === false) return null; // the caller has bare-host text
  if (problem === 'sandbox') {
    if (info.runtime === 'gvisor') return SANDBOX_GVISOR;
    if (info.runtime === 'wsl') return WSL_NOTE;
    return null;
  }
  if (problem === 'sysctl') return sysctlText(info);
  const specific = problem === 'seccomp' ? seccompText(info) : memlockText(info);
  if (specific !== null) return specific;
  // Runtime unknown: give the two commonest forms.
  const lead =
    info.inContainer === null
      ? 'Could not tell whether this is a container; if it is:'
      : 'Could not tell the container runtime;';
  const forms =
    problem === 'seccomp'
      ? `${SECCOMP_DOCKER} ${seccompKubernetes(null)}`
      : `${MEMLOCK_DOCKER} ${memlockKubernetes(null)}`;
  return `${lead} ${forms}`;
}
