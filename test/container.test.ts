// Container detection over fake roots (fixtures/containers/<case>/, '/x' read as '<case>/x', env from
// <case>/env.json), the remediation text per runtime, and one run against the real machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  containerRemediation,
  detectContainer,
  matchCgroupPath,
  sourcesAt,
  type ContainerInfo,
  type ContainerProblem,
} from '../src/context/container.js';
import { fixturePath } from './helpers/paths.js';

function detect(name: string): ContainerInfo {
  const dir = fixturePath('containers', name);
  const env = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as NodeJS.ProcessEnv;
  return detectContainer(sourcesAt(dir, env));
}

function hasEvidence(info: ContainerInfo, pattern: RegExp): void {
  assert.ok(info.evidence.some((e) => pattern.test(e)), `no evidence matching ${pattern}: ${JSON.stringify(info.evidence)}`);
}

const PROBLEMS: ContainerProblem[] = ['seccomp', 'memlock', 'sysctl', 'sandbox'];

test('docker, cgroup v1: /docker/<id> paths, /.dockerenv, id from the cgroup', () => {
  const info = detect('docker-cgroup-v1');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'docker');
  assert.equal(info.orchestrator, null);
  assert.equal(info.cgroupVersion, 1);
  assert.equal(info.cgroupPath, '/docker/ae1f100ee966ed479fe5f05657af4800b75d1312bc58c80fc061483c4a034fed');
  assert.equal(info.containerId, 'ae1f100ee966ed479fe5f05657af4800b75d1312bc58c80fc061483c4a034fed');
  assert.equal(info.cannotTell, null);
  hasEvidence(info, /^\/\.dockerenv exists$/);
  hasEvidence(info, /^\/proc\/self\/cgroup: \/docker\/ae1f100e/);
  hasEvidence(info, /containers\/ae1f100e[0-9a-f]+\/(hostname|hosts|resolv\.conf) \(Docker container directory\)$/);
  hasEvidence(info, /root filesystem is overlay/);
  assert.match(containerRemediation(info, 'seccomp') ?? '', /docker run --security-opt seccomp=PROFILE\.json/);
  assert.match(containerRemediation(info, 'seccomp') ?? '', /Docker >= 25/);
  assert.match(containerRemediation(info, 'memlock') ?? '', /--ulimit memlock=BYTES:BYTES/);
  assert.equal(containerRemediation(info, 'sandbox'), null);
});

test('docker, cgroup v2: docker-<id>.scope under system.slice', () => {
  const info = detect('docker-cgroup-v2');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'docker');
  assert.equal(info.cgroupVersion, 2);
  assert.equal(info.cgroupPath, '/system.slice/docker-a480b57e839ca20d498920bc76fafcfaeb052fc6068287b61612260b288cffe1.scope');
  assert.equal(info.containerId, 'a480b57e839ca20d498920bc76fafcfaeb052fc6068287b61612260b288cffe1');
  hasEvidence(info, /^\/proc\/self\/cgroup: \/system\.slice\/docker-a480b57e.*\.scope$/);
  hasEvidence(info, /^\/\.dockerenv exists$/);
});

test('kubernetes + containerd, cgroup v2: cri-containerd-<id>.scope under kubepods.slice', () => {
  const info = detect('k8s-containerd-v2');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'containerd');
  assert.equal(info.orchestrator, 'kubernetes');
  assert.equal(info.cgroupVersion, 2);
  assert.match(info.cgroupPath ?? '', /^\/kubepods\.slice\/kubepods-burstable\.slice\/kubepods-burstable-pod805c734d_ef74_48a0_a014_32a8925db0e7\.slice\/cri-containerd-e79ae516[0-9a-f]+\.scope$/);
  assert.equal(info.containerId, 'e79ae5160696af6060d9a397c63c8f9acfd249a9c5a113340ae111e59c424beb');
  hasEvidence(info, /^KUBERNETES_SERVICE_HOST set$/);
  hasEvidence(info, /^\/var\/run\/secrets\/kubernetes\.io\/serviceaccount exists$/);
  hasEvidence(info, /^\/proc\/self\/cgroup: \/kubepods\.slice\/.*cri-containerd-e79ae516/);
  const seccomp = containerRemediation(info, 'seccomp') ?? '';
  assert.match(seccomp, /type: Localhost, localhostProfile: profiles\/io_uring\.json/);
  assert.match(seccomp, /\/var\/lib\/kubelet\/seccomp\//);
  assert.match(seccomp, /containerd >= 2\.0/);
  assert.doesNotMatch(seccomp, /docker run/);
  const memlock = containerRemediation(info, 'memlock') ?? '';
  assert.match(memlock, /LimitMEMLOCK= in a containerd\.service drop-in/);
  assert.doesNotMatch(memlock, /default_ulimits/);
  assert.match(containerRemediation(info, 'sysctl') ?? '', /securityContext\.sysctls only takes namespaced sysctls/);
});

test('kubernetes + containerd behind a cgroup namespace: the bind mounts still tell', () => {
  const info = detect('k8s-containerd-cgroupns');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'containerd');
  assert.equal(info.orchestrator, 'kubernetes');
  assert.equal(info.cgroupPath, '/');
  assert.equal(info.containerId, null); // the sandbox id is not the container's
  hasEvidence(info, /0::\/ \(path hidden: a cgroup namespace/);
  hasEvidence(info, /io\.containerd\.grpc\.v1\.cri\/sandboxes\/.*\(containerd CRI\)$/);
  hasEvidence(info, /kubelet\/pods\/667035ca-c452-4189-9f47-3904960db73d\/etc-hosts \(kubelet pod volume\)$/);
});

test('kubernetes + CRI-O: crio-<id>.scope; the empty /run/.containerenv does not make it Podman', () => {
  const info = detect('k8s-crio');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'cri-o');
  assert.equal(info.orchestrator, 'kubernetes');
  assert.equal(info.containerId, 'e129f416982da1f969a22ba26b6d96c9750dd0d56eca330aee406a70b9bd62c3');
  assert.match(info.cgroupPath ?? '', /crio-e129f416[0-9a-f]+\.scope\/container$/);
  hasEvidence(info, /^\/run\/\.containerenv exists$/);
  const seccomp = containerRemediation(info, 'seccomp') ?? '';
  assert.match(seccomp, /Localhost/);
  assert.match(seccomp, /crio\.conf's seccomp_profile/);
  assert.match(containerRemediation(info, 'memlock') ?? '', /default_ulimits = \["memlock=BYTES:BYTES"\]/);
});

test('podman: /run/.containerenv engine line and PID 1 container=podman behind a cgroup namespace', () => {
  const info = detect('podman');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'podman');
  assert.equal(info.orchestrator, null);
  assert.equal(info.cgroupVersion, 2);
  assert.equal(info.cgroupPath, '/');
  assert.equal(info.containerId, '5bf5eec17756a9a6a400ad24c189fa38aaa64769df47f228d240317dea995056');
  hasEvidence(info, /^\/run\/\.containerenv: engine="podman-4\.3\.1"$/);
  hasEvidence(info, /^PID 1 environ container=podman$/);
  hasEvidence(info, /overlay-containers\/5bf5eec1.*\(containers\/storage: Podman or CRI-O\)$/);
  assert.match(containerRemediation(info, 'seccomp') ?? '', /podman run --security-opt seccomp=PROFILE\.json/);
  assert.match(containerRemediation(info, 'memlock') ?? '', /podman run --ulimit memlock=/);
});

test('systemd-nspawn: /run/systemd/container wins over a host-looking (namespaced) cgroup path', () => {
  const info = detect('systemd-nspawn');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'systemd-nspawn');
  assert.equal(info.cgroupPath, '/system.slice/udp-relay.service');
  assert.equal(info.containerId, null);
  hasEvidence(info, /^\/run\/systemd\/container: systemd-nspawn$/);
  hasEvidence(info, /^\/run\/host\/container-manager: systemd-nspawn$/);
  const seccomp = containerRemediation(info, 'seccomp') ?? '';
  assert.match(seccomp, /SystemCallFilter=io_uring_setup io_uring_enter io_uring_register/);
  assert.match(seccomp, /\[Exec\]/);
  assert.match(seccomp, /--system-call-filter=/);
  assert.match(containerRemediation(info, 'memlock') ?? '', /LimitMEMLOCK=BYTES/);
});

test('lxc: /lxc/<name> cgroups and PID 1 environ container=lxc', () => {
  const info = detect('lxc');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'lxc');
  assert.equal(info.cgroupVersion, 1);
  assert.equal(info.cgroupPath, '/lxc/relay01');
  assert.equal(info.containerId, null);
  hasEvidence(info, /^PID 1 environ container=lxc$/);
  hasEvidence(info, /^\/proc\/self\/cgroup: \/lxc\/relay01$/);
  assert.match(containerRemediation(info, 'seccomp') ?? '', /lxc\.seccomp\.profile/);
  assert.match(containerRemediation(info, 'memlock') ?? '', /lxc\.prlimit\.memlock/);
});

test('cgroup namespace hides the path, /.dockerenv names Docker', () => {
  const info = detect('cgroupns-dockerenv');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'docker');
  assert.equal(info.cgroupPath, '/');
  assert.equal(info.containerId, null);
  assert.equal(info.cannotTell, null);
  hasEvidence(info, /0::\/ \(path hidden: a cgroup namespace, or the root cgroup\)$/);
  hasEvidence(info, /^\/\.dockerenv exists$/);
});

// Decision: `0::/` plus an overlay root and nothing else is "cannot tell" (inContainer null), not a
// container: a host process can sit in the root cgroup and hosts can boot from overlay.
test('hidden cgroup path and an overlay root alone: cannot tell', () => {
  const info = detect('cgroupns-overlay-only');
  assert.equal(info.inContainer, null);
  assert.equal(info.runtime, null);
  assert.equal(info.orchestrator, null);
  assert.equal(info.containerId, null);
  hasEvidence(info, /root filesystem is overlay/);
  assert.match(info.cannotTell ?? '', /cgroup path hidden/);
  assert.match(info.cannotTell ?? '', /no \/\.dockerenv/);
  assert.match(info.cannotTell ?? '', /overlay root filesystem alone is not enough/);
  const seccomp = containerRemediation(info, 'seccomp') ?? '';
  assert.match(seccomp, /^Could not tell whether this is a container/);
  assert.match(seccomp, /--security-opt seccomp=/);
  assert.match(seccomp, /Localhost/);
});

test('bare host: a session cgroup and no sign is not a container', () => {
  const info = detect('bare-host');
  assert.equal(info.inContainer, false);
  assert.equal(info.runtime, null);
  assert.equal(info.orchestrator, null);
  assert.equal(info.cgroupVersion, 2);
  assert.equal(info.cgroupPath, '/user.slice/user-1000.slice/session-4.scope');
  assert.deepEqual(info.evidence, []);
  assert.equal(info.cannotTell, null);
  for (const p of PROBLEMS) assert.equal(containerRemediation(info, p), null, p);
});

test('gVisor: the marker file and the fixed /proc/version beat /.dockerenv', () => {
  const info = detect('gvisor');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'gvisor');
  hasEvidence(info, /^\/proc\/gvisor\/kernel_is_gvisor exists/);
  hasEvidence(info, /Sun Jan 10 15:06:54 PST 2016 \(gVisor's fixed kernel version\)$/);
  hasEvidence(info, /^\/\.dockerenv exists$/);
  const sandbox = containerRemediation(info, 'sandbox') ?? '';
  assert.match(sandbox, /--iouring/);
  assert.match(sandbox, /ENOSYS/);
  assert.equal(containerRemediation(info, 'seccomp'), sandbox);
  assert.match(containerRemediation(info, 'sysctl') ?? '', /sentry implements io_uring itself/);
});

test('WSL: the kernel release names it', () => {
  const info = detect('wsl');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'wsl');
  hasEvidence(info, /kernel release names WSL: 5\.15\.167\.4-microsoft-standard-WSL2/);
  assert.match(containerRemediation(info, 'sandbox') ?? '', /^WSL:/);
});

test('a PID namespace of its own without other signs: a container of unknown kind', () => {
  const info = detect('pidns-only');
  assert.equal(info.inContainer, true);
  assert.equal(info.runtime, 'unknown-container');
  hasEvidence(info, /^PID namespace pid:\[4026532617\] is not the initial one/);
  assert.match(info.cannotTell ?? '', /no sign names the runtime/);
  assert.match(info.cannotTell ?? '', /no \/run\/\.containerenv/);
  const seccomp = containerRemediation(info, 'seccomp') ?? '';
  assert.match(seccomp, /^Could not tell the container runtime/);
  assert.match(seccomp, /docker run --security-opt seccomp=/);
  assert.match(seccomp, /Localhost/);
  assert.match(containerRemediation(info, 'sysctl') ?? '', /host-wide \(not namespaced\)/);
});

test('cgroup path patterns', () => {
  const id = 'c0ffee'.padEnd(64, '7');
  const cases: Array<[string, string | null, boolean]> = [
    [`/system.slice/nerdctl-${id}.scope`, 'containerd', false],
    [`/default/${id}`, 'containerd', false],
    [`/machine.slice/libpod-${id}.scope/container`, 'podman', false],
    [`/libpod_parent/libpod-${id}`, 'podman', false],
    [`/kubepods/burstable/pod2c4f1b9e-2f7a-4a0c-9a55-3b1d8e0f6a21/${id}`, null, true],
    [`/kubepods.slice/kubepods-pod1.slice/docker-${id}.scope`, 'docker', true],
    ['/machine.slice/systemd-nspawn@relay.service/payload', 'systemd-nspawn', false],
    ['/machine.slice/machine-relay.scope/payload', 'systemd-nspawn', false],
    ['/machine.slice/machine-lxc\\x2dweb.scope', 'lxc', false],
    ['/lxc.payload.web01/system.slice/nginx.service', 'lxc', false],
  ];
  for (const [path, runtime, kubernetes] of cases) {
    const m = matchCgroupPath(path);
    assert.ok(m, path);
    assert.equal(m.runtime, runtime, path);
    assert.equal(m.kubernetes, kubernetes, path);
  }
  assert.equal(matchCgroupPath(`/kubepods.slice/kubepods-pod1.slice/crio-conmon-${id}.scope`)?.runtime ?? null, null);
  assert.equal(matchCgroupPath('/user.slice/user-1000.slice/session-4.scope'), null);
  assert.equal(matchCgroupPath('/init.scope'), null);
  assert.equal(matchCgroupPath('/machine.slice/machine-qemu\\x2d1\\x2dvm.scope'), null);
});

test('remediation: containerd without Kubernetes uses nerdctl; no text ever says unconfined', () => {
  const base: ContainerInfo = {
    inContainer: true, runtime: 'containerd', orchestrator: null, cgroupVersion: 2, cgroupPath: '/', containerId: null, evidence: [], cannotTell: null,
  };
  assert.match(containerRemediation(base, 'seccomp') ?? '', /nerdctl run --security-opt seccomp=PROFILE\.json/);
  assert.match(containerRemediation(base, 'memlock') ?? '', /nerdctl run --ulimit memlock=/);
  const k8sUnknown = { ...base, runtime: 'unknown-container' as const, orchestrator: 'kubernetes' as const };
  assert.match(containerRemediation(k8sUnknown, 'seccomp') ?? '', /Localhost/);
  assert.match(containerRemediation(k8sUnknown, 'seccomp') ?? '', /containerd >= 2\.0 and on Docker >= 25/);
  const memlock = containerRemediation(k8sUnknown, 'memlock') ?? '';
  assert.match(memlock, /containerd\.service/);
  assert.match(memlock, /default_ulimits/);
  const runtimes = ['docker', 'containerd', 'cri-o', 'podman', 'systemd-nspawn', 'lxc', 'gvisor', 'wsl', 'unknown-container'] as const;
  for (const runtime of runtimes) {
    for (const orchestrator of [null, 'kubernetes'] as const) {
      for (const p of PROBLEMS) {
        const text = containerRemediation({ ...base, runtime, orchestrator }, p);
        if (text !== null) assert.doesNotMatch(text, /unconfined/i, `${runtime}/${orchestrator}/${p}`);
      }
    }
  }
});

test('the real machine: detectContainer() runs and returns a consistent shape', () => {
  const info = detectContainer();
  assert.ok([true, false, null].includes(info.inContainer));
  assert.ok([1, 2, null].includes(info.cgroupVersion));
  assert.ok(info.orchestrator === null || info.orchestrator === 'kubernetes');
  assert.ok(Array.isArray(info.evidence) && info.evidence.every((e) => typeof e === 'string' && e.length > 0));
  assert.ok(info.containerId === null || /^[0-9a-f]{64}$/.test(info.containerId));
  if (info.inContainer === true) assert.ok(info.runtime !== null);
  else assert.equal(info.runtime, null);
  if (info.inContainer !== true) assert.equal(info.containerId, null);
  if (info.orchestrator === 'kubernetes') assert.equal(info.inContainer, true);
  assert.equal(info.cannotTell !== null, info.inContainer === null || info.runtime === 'unknown-container');
  if (info.inContainer === false) assert.ok(info.evidence.every((e) => /overlay|empty: not a container/.test(e)), JSON.stringify(info.evidence));
  for (const p of PROBLEMS) {
    const text = containerRemediation(info, p);
    assert.ok(text === null || text.length > 0);
  }
});
