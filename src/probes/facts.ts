// Every probe's facts types, and which a probe id may carry: the one list the schema's facts
// definitions are generated from (scripts/gen-facts-schema.mjs) and the gate reads through.
export type { CqeAlignmentFacts, CqeAlignmentUnmeasuredFacts } from './cqe-alignment.js';
export type { EnvironmentFacts, InvokerFacts } from './environment.js';
export type { LoopbackFacts, LoopbackFamilyFacts } from './loopback.js';
export type { MemlockFacts } from './memlock.js';
export type { MultishotFacts, OpcodesFacts, OpcodesRefusedFacts } from './opcodes.js';
export type { DependencySkipFacts, ProbeDeathFacts, ProbeErrorFacts } from './result.js';
export type { RingFacts, RingSetupFacts } from './ring-setup.js';
export type { FlagOutcome, SetupFlagFacts, SetupFlagsFacts } from './setup-flags.js';
export type { SingleIssuerFacts, SubmitFacts } from './single-issuer.js';
export type { SingleMmapFacts } from './single-mmap.js';
export type { ThroughputFacts, ThroughputModeFacts } from './throughput.js';
export type { WorkerLimitFacts, WorkerLimitRingFacts } from './worker-limit.js';

/** The facts types a probe's own result may carry, by probe id (a test keeps it in step with the registry). */
export const FACTS_TYPES: Readonly<Record<string, readonly string[]>> = {
  environment: ['EnvironmentFacts'],
  memlock: ['MemlockFacts'],
  'ring-setup': ['RingSetupFacts'],
  'single-mmap': ['SingleMmapFacts'],
  'cqe-alignment': ['CqeAlignmentFacts', 'CqeAlignmentUnmeasuredFacts'],
  'worker-limit': ['WorkerLimitFacts'],
  opcodes: ['OpcodesFacts', 'OpcodesRefusedFacts'],
  'setup-flags': ['SetupFlagsFacts'],
  'single-issuer': ['SingleIssuerFacts'],
  loopback: ['LoopbackFacts'],
  throughput: ['ThroughputFacts'],
};

/** What the runner writes when a probe did not return a result of its own (any probe id). */
export const RUNNER_FACTS_TYPES: readonly string[] = ['DependencySkipFacts', 'ProbeErrorFacts', 'ProbeDeathFacts'];
