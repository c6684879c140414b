// The object model (docs/architecture.md, "Concepts") as TypeBox schemas. The same schema objects
// validate API bodies and CLI files and give the TypeScript types, so the three cannot drift.
// `errorMessage` on a schema is the text a user sees when that field fails; see validate.ts.
import Type, { type Static } from 'typebox';
import { CPU_PATTERN, DURATION_PATTERN, MEMORY_PATTERN } from './quantity.js';
import { HOSTNAME_MAX, HOSTNAME_MESSAGE, HOSTNAME_PATTERN, HTTP_PATH_MAX, HTTP_PATH_MESSAGE, HTTP_PATH_PATTERN } from './safe-strings.js';

export const API_VERSION = 'gantry/v1';

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const Name = (what: string) =>
  Type.String({
    pattern: NAME_PATTERN,
    maxLength: 63,
    errorMessage: `must be a ${what}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
  });
const LabelMap = Type.Record(Type.String({ pattern: '^[A-Za-z0-9._/-]{1,253}$' }), Type.String({ maxLength: 253 }), {
  errorMessage: 'must be a map of string keys (letters, digits, ".", "_", "/", "-") to strings',
});

const Cpu = Type.Union([Type.String({ pattern: CPU_PATTERN }), Type.Number({ minimum: 0 })], {
  errorMessage: 'must be a cpu quantity in cores like 0.25 or 250m',
});
const Memory = Type.String({ pattern: MEMORY_PATTERN, errorMessage: 'must be a quantity like 128Mi' });
const Duration = Type.String({ pattern: DURATION_PATTERN, errorMessage: 'must be a duration like 10s, 500ms or 1m' });
// Strings HAProxy reads (config lines, runtime API commands): strict patterns, see safe-strings.ts.
const HttpPath = Type.String({ pattern: HTTP_PATH_PATTERN, maxLength: HTTP_PATH_MAX, errorMessage: HTTP_PATH_MESSAGE });
const PortRef = Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1, maximum: 65535 })], {
  errorMessage: 'must be a port name declared in ports[] or a port number',
});

export const ObjectMetaSchema = Type.Object(
  {
    name: Name('name'),
    namespace: Type.Optional(Name('namespace name')),
    labels: Type.Optional(LabelMap),
    annotations: Type.Optional(LabelMap),
    // Set by the server; accepted on input so that `get -o yaml` output can be applied again.
    uid: Type.Optional(Type.String()),
    revision: Type.Optional(Type.Integer({ minimum: 0 })),
    generation: Type.Optional(Type.Integer({ minimum: 0 })),
    createdAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ResourcesSchema = Type.Object(
  {
    cpu: Type.Optional(Cpu),
    memory: Type.Optional(Memory),
    /** Processes and threads the container may have at once (a fork bomb stops there); default 1024. */
    pids: Type.Optional(Type.Integer({ minimum: 16, maximum: 4_194_304, errorMessage: 'must be a whole number of processes from 16 to 4194304, like 1024' })),
    /**
     * How `cpu` is enforced: quota (default) caps the container at `cpu` cores of time; shares
     * weighs it against its neighbours (no cap when the node is idle); cpuset pins it to `cpu`
     * whole cores of its own, which the agent picks from the node's free set.
     */
    cpuMode: Type.Optional(Type.Union([Type.Literal('quota'), Type.Literal('shares'), Type.Literal('cpuset')], { errorMessage: 'must be quota, shares or cpuset' })),
  },
  { additionalProperties: false },
);

export const PortSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 15, errorMessage: 'must be a port name: lower-case letters, digits and "-", at most 15 characters' }),
    containerPort: Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number from 1 to 65535' }),
    protocol: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { errorMessage: 'must be tcp or udp' })),
    hostPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number from 1 to 65535; leave it out for a dynamic host port' })),
  },
  { additionalProperties: false },
);

export const HealthCheckSchema = Type.Object(
  {
    http: Type.Optional(Type.Object({ port: PortRef, path: Type.Optional(HttpPath) }, { additionalProperties: false })),
    tcp: Type.Optional(Type.Object({ port: PortRef }, { additionalProperties: false })),
    exec: Type.Optional(Type.Object({ command: Type.Array(Type.String(), { minItems: 1 }) }, { additionalProperties: false })),
    interval: Type.Optional(Duration),
    timeout: Type.Optional(Duration),
    retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    startPeriod: Type.Optional(Duration),
    /** Probes until the first success come this often (default 250ms, at most interval). */
    startInterval: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

// ---- Security context, volumes, host namespaces (issue 13: admission) ----

/** A path Docker's bind syntax (`source:target:ro`) can carry: absolute, no ':' or ',' or spaces. */
const MountPath = Type.String({ pattern: '^/[A-Za-z0-9._@+/-]*$', maxLength: 1024, errorMessage: 'must be an absolute path like /data (letters, digits and . _ @ + / -)' });
const Capability = Type.String({ pattern: '^(ALL|(?!CAP_)[A-Z][A-Z0-9_]{1,31})$', errorMessage: 'must be a capability name like NET_BIND_SERVICE (no CAP_ prefix), or ALL' });

export const SecurityContextSchema = Type.Object(
  {
    /** Every capability and every device of the host: only the privileged profile allows it. */
    privileged: Type.Optional(Type.Boolean()),
    /** The container starts with Docker's defaults minus NET_RAW, minus `drop`, plus `add` (the driver sets CapDrop ALL and adds these). */
    capabilities: Type.Optional(
      Type.Object({ add: Type.Optional(Type.Array(Capability, { maxItems: 64 })), drop: Type.Optional(Type.Array(Capability, { maxItems: 64 })) }, { additionalProperties: false }),
    ),
    readOnlyRootFilesystem: Type.Optional(Type.Boolean()),
    /** false (the default): a setuid binary cannot gain privileges (no-new-privileges). */
    allowPrivilegeEscalation: Type.Optional(Type.Boolean()),
    seccompProfile: Type.Optional(
      Type.Object({ type: Type.Union([Type.Literal('RuntimeDefault'), Type.Literal('Unconfined')], { errorMessage: 'must be RuntimeDefault or Unconfined' }) }, { additionalProperties: false }),
    ),
    /** A numeric user id, or `auto`: a uid of its own per instance on its node, from the server's --auto-uid-range. */
    runAsUser: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), Type.Literal('auto')], { errorMessage: 'must be a numeric user id or auto' })),
    runAsGroup: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, errorMessage: 'must be a numeric group id' })),
    /** The agent refuses to start the container when it would run as uid 0. */
    runAsNonRoot: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const VolumeMountSchema = Type.Object(
  { name: Name('volume name'), mountPath: MountPath, readOnly: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** One of: a Docker named volume (`gantry-<namespace>-<name>`, kept across instances), or a host path (profile permitting). */
export const VolumeSchema = Type.Object(
  {
    name: Name('volume name'),
    namedVolume: Type.Optional(Type.Object({ name: Type.Optional(Name('volume name')) }, { additionalProperties: false })),
    hostPath: Type.Optional(Type.Object({ path: MountPath }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const ContainerSchema = Type.Object(
  {
    name: Name('container name'),
    image: Type.String({ minLength: 1, pattern: '^[^\\s]+$', errorMessage: 'must be an image reference like busybox:1.36 (no spaces)' }),
    command: Type.Optional(Type.Array(Type.String())),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String(), { errorMessage: 'must be a map of variable names to string values (quote numbers)' })),
    resources: Type.Optional(ResourcesSchema),
    ports: Type.Optional(Type.Array(PortSchema)),
    healthCheck: Type.Optional(HealthCheckSchema),
    securityContext: Type.Optional(SecurityContextSchema),
    volumeMounts: Type.Optional(Type.Array(VolumeMountSchema)),
  },
  { additionalProperties: false },
);

/** What the containers of one instance share beyond the network: volumes and host namespaces. */
const podFields = {
  volumes: Type.Optional(Type.Array(VolumeSchema)),
  /** The host's network, PID and IPC namespaces: only the privileged profile allows them. */
  hostNetwork: Type.Optional(Type.Boolean()),
  hostPID: Type.Optional(Type.Boolean()),
  hostIPC: Type.Optional(Type.Boolean()),
};

export const RestartPolicySchema = Type.Union([Type.Literal('Always'), Type.Literal('OnFailure'), Type.Literal('Never')], {
  errorMessage: 'must be one of Always, OnFailure, Never',
});

// ---- Rollouts, termination, failure policy (issue: rollouts) ----

const Count = (what: string) => Type.Integer({ minimum: 0, maximum: 100_000, errorMessage: `must be a whole number of ${what} from 0 to 100000` });
/** A whole number of instances or a percentage of replicas like "25%". */
const IntOrPercent = Type.Union([Type.Integer({ minimum: 0, maximum: 100_000 }), Type.String({ pattern: '^[0-9]{1,3}%$' })], {
  errorMessage: 'must be a whole number of instances or a percentage like 25%',
});

export const UpdateStrategySchema = Type.Object(
  {
    strategy: Type.Optional(Type.Union([Type.Literal('Rolling'), Type.Literal('Recreate')], { errorMessage: 'must be Rolling or Recreate' })),
    maxSurge: Type.Optional(IntOrPercent),
    maxUnavailable: Type.Optional(IntOrPercent),
    minReadySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, errorMessage: 'must be a whole number of seconds from 0 to 3600' })),
    progressDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, errorMessage: 'must be a whole number of seconds from 1 to 86400' })),
    autoRollback: Type.Optional(Type.Boolean()),
    /** Pause after this many new instances until `gantry rollout promote`. */
    canary: Type.Optional(Count('instances')),
  },
  { additionalProperties: false },
);

/** How an instance is stopped: not ready first, then the drain delay, the signal, the grace period, SIGKILL. */
export const TerminationSchema = Type.Object(
  {
    drainDelay: Type.Optional(Duration),
    gracePeriod: Type.Optional(Duration),
    stopSignal: Type.Optional(Type.String({ pattern: '^SIG[A-Z0-9]+$', errorMessage: 'must be a signal name like SIGTERM' })),
  },
  { additionalProperties: false },
);

// ---- Discovery (issue: discovery) ----

export const ExposeSchema = Type.Object(
  {
    /** A port name declared in containers[].ports. */
    port: Type.String({ minLength: 1, errorMessage: 'must name a port declared in containers[].ports' }),
    servicePort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number from 1 to 65535' })),
    hostname: Type.Optional(Type.String({ pattern: HOSTNAME_PATTERN, maxLength: HOSTNAME_MAX, errorMessage: HOSTNAME_MESSAGE })),
    mode: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('tcp')], { errorMessage: 'must be http or tcp' })),
  },
  { additionalProperties: false },
);

// ---- Config files (issue: jobs/config) ----

const RefSchema = Type.Object({ name: Name('name'), key: Type.String({ minLength: 1, maxLength: 253 }) }, { additionalProperties: false });

export const ConfigFileSchema = Type.Object(
  {
    path: Type.String({ pattern: '^/[^\\0]*$', maxLength: 1024, errorMessage: 'must be an absolute path like /etc/app/app.conf' }),
    content: Type.Optional(Type.String({ maxLength: 1_048_576 })),
    configRef: Type.Optional(RefSchema),
    secretRef: Type.Optional(RefSchema),
    mode: Type.Optional(Type.String({ pattern: '^0?[0-7]{3}$', errorMessage: 'must be an octal file mode like 0644' })),
  },
  { additionalProperties: false },
);

export const PlacementSchema = Type.Object(
  {
    constraints: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9._/-]+(=|!=)[A-Za-z0-9._/-]*$', errorMessage: 'must be a label constraint like rack=a or pool!=gpu' })),
    ),
    spread: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9._/-]+$', errorMessage: 'must be a node label key like rack' }))),
  },
  { additionalProperties: false },
);

export const ConditionSchema = Type.Object({
  type: Type.String(),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String()),
});

// ---- Service ----

export const ServiceSpecSchema = Type.Object(
  {
    replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, errorMessage: 'must be a whole number from 0 to 100000' })),
    containers: Type.Array(ContainerSchema, { minItems: 1, errorMessage: 'must list at least one container' }),
    restartPolicy: Type.Optional(RestartPolicySchema),
    placement: Type.Optional(PlacementSchema),
    /** Run to completion, in order, before the main containers start. */
    initContainers: Type.Optional(Type.Array(ContainerSchema)),
    configFiles: Type.Optional(Type.Array(ConfigFileSchema)),
    update: Type.Optional(UpdateStrategySchema),
    /** A paused rollout holds the current mix of versions. */
    paused: Type.Optional(Type.Boolean()),
    /** Versions kept for `rollout undo`; default 10. */
    historyLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, errorMessage: 'must be a whole number from 1 to 100' })),
    termination: Type.Optional(TerminationSchema),
    /** How long a node may be silent before this service's instances there are replaced. */
    lostAfter: Type.Optional(Duration),
    /** When a lost node comes back with an instance that was replaced meanwhile. */
    onNodeReturn: Type.Optional(Type.Union([Type.Literal('KeepReplacement'), Type.Literal('KeepOriginal')], { errorMessage: 'must be KeepReplacement or KeepOriginal' })),
    /** In-place restarts of a failing instance before it is moved to another node; default 5. */
    rescheduleAfterFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, errorMessage: 'must be a whole number from 1 to 1000' })),
    expose: Type.Optional(Type.Array(ExposeSchema)),
    ...podFields,
  },
  { additionalProperties: false },
);

export const RolloutPhaseSchema = Type.Union([
  Type.Literal('Progressing'),
  Type.Literal('Paused'),
  Type.Literal('CanaryPaused'),
  Type.Literal('Complete'),
  Type.Literal('Failed'),
  Type.Literal('RolledBack'),
]);

export const RolloutStatusSchema = Type.Object({
  phase: RolloutPhaseSchema,
  /** The version being rolled out (equals status.version). */
  version: Type.Integer(),
  /** The version it started from. */
  fromVersion: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  /** When the last new instance turned ready (progress deadline counts from here). */
  progressAt: Type.Optional(Type.String()),
  /** Set by `rollout promote` for a canary rollout of `version`. */
  promoted: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String()),
  /** Available instances of `version` when last looked: a rise is progress. */
  availableUpdated: Type.Optional(Type.Integer()),
});

export const ServiceStatusSchema = Type.Object({
  replicas: Type.Integer(),
  readyReplicas: Type.Integer(),
  observedGeneration: Type.Optional(Type.Integer()),
  conditions: Type.Array(ConditionSchema),
  /** The current version (ServiceVersion `<name>-v<version>`). */
  version: Type.Optional(Type.Integer()),
  /** Live instances of the current version. */
  updatedReplicas: Type.Optional(Type.Integer()),
  /** Ready for at least minReadySeconds. */
  availableReplicas: Type.Optional(Type.Integer()),
  rollout: Type.Optional(RolloutStatusSchema),
});

// ---- ServiceVersion: one entry of a Service's history (written by Gantry only) ----

export const ServiceTemplateSchema = Type.Object({
  containers: Type.Array(ContainerSchema),
  restartPolicy: RestartPolicySchema,
  initContainers: Type.Optional(Type.Array(ContainerSchema)),
  configFiles: Type.Optional(Type.Array(ConfigFileSchema)),
  ...podFields,
});

export const ServiceVersionSpecSchema = Type.Object({
  service: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  templateHash: Type.String(),
  template: ServiceTemplateSchema,
  /** What made it: "apply", "rollout undo to v2", "config web-conf changed". */
  cause: Type.Optional(Type.String()),
});

// ---- Instance ----

export const InstancePhaseSchema = Type.Union([
  Type.Literal('Pending'),
  Type.Literal('Starting'),
  Type.Literal('Running'),
  Type.Literal('Succeeded'),
  Type.Literal('Failed'),
  Type.Literal('Lost'),
]);

export const InstanceSpecSchema = Type.Object(
  {
    /** The owning Service. */
    service: Type.String(),
    /** The node the scheduler bound this instance to; absent while Pending and unplaced. */
    node: Type.Optional(Type.String()),
    containers: Type.Array(ContainerSchema, { minItems: 1 }),
    restartPolicy: RestartPolicySchema,
    placement: Type.Optional(PlacementSchema),
    /** Summed requests of all containers: millicores and bytes; `cores`: whole cores pinned (cpuMode cpuset). */
    resources: Type.Object({ cpu: Type.Integer(), memory: Type.Integer(), cores: Type.Optional(Type.Integer({ minimum: 1 })) }),
    /** The uid of containers with runAsUser auto: picked by the scheduler when it binds the instance, distinct on its node. */
    autoUid: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Hash of the Service template this instance was made from. */
    templateHash: Type.String(),
    /** The owner's kind; `service` above names the owner. Absent means Service. */
    ownerKind: Type.Optional(Type.Union([Type.Literal('Service'), Type.Literal('Job')])),
    /** The owner's version this instance was made from (ServiceVersion). */
    version: Type.Optional(Type.Integer()),
    initContainers: Type.Optional(Type.Array(ContainerSchema)),
    configFiles: Type.Optional(Type.Array(ConfigFileSchema)),
    /** Jobs: `warm` runs the work by exec in a long-lived container per job and node. */
    runIn: Type.Optional(Type.Union([Type.Literal('fresh'), Type.Literal('warm')])),
    /** runIn warm: copied from the Job's spec.warm (docs/config-files.md, "Warm execution"). */
    warm: Type.Optional(Type.Object({ idleCommand: Type.Optional(Type.Array(Type.String(), { minItems: 1 })) }, { additionalProperties: false })),
    /** Resolved from the owner's termination spec at creation. */
    termination: Type.Optional(Type.Object({ drainDelaySeconds: Type.Number(), gracePeriodSeconds: Type.Number(), stopSignal: Type.String() })),
    /**
     * Set when Gantry wants the instance gone: the agent reports it not ready at once (discovery
     * drops it), waits the drain delay, sends the stop signal, waits the grace period, kills, and
     * reports it finished with reason `Stopped`; the owner then deletes the object.
     */
    stop: Type.Optional(Type.Object({ at: Type.String(), reason: Type.String() })),
    /** Set when the instance must move (node draining, crash loop): the owner replaces it surge-first. */
    evict: Type.Optional(Type.Object({ at: Type.String(), reason: Type.String(), message: Type.Optional(Type.String()) })),
    /** Nodes the scheduler should avoid for this instance (where its predecessors kept failing). */
    avoidNodes: Type.Optional(Type.Array(Type.String())),
    ...podFields,
  },
  { additionalProperties: false },
);

// ---- What agents report ----
/**
 * What agents report about where they are (node and instance addresses, the agent URL, the driver)
 * reaches HAProxy's config and runtime socket, DNS answers and the server's own connections: an IP
 * address literal, never a name, and nothing with whitespace, control characters, `;` or quotes.
 */
export const IpAddressSchema = Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })], {
  errorMessage: 'must be an IP address like 10.0.0.5 or fd00::5 (no host names, spaces, ";" or quotes)',
});

/** `http(s)://host:port[/path]`; informational since the server builds agent URLs itself (log-proxy.ts). */
export const AgentUrlSchema = Type.String({
  pattern: "^https?://[^\\s;'\"`\\\\\\x00-\\x1f\\x7f]+$",
  maxLength: 2048,
  errorMessage: 'must be an http(s) URL without spaces, control characters, ";" or quotes',
});

/** A container runtime's name: docker, fake. */
export const DriverNameSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', errorMessage: 'must be a driver name like docker: lower-case letters, digits, ".", "_" and "-"' });

/** The port of a node's agent endpoint, fixed when the node joins. */
export const AgentPortSchema = Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'must be a port number from 1 to 65535' });

export const ContainerStatusSchema = Type.Object({
  name: Type.String(),
  containerId: Type.Optional(Type.String()),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('running'), Type.Literal('exited')]),
  restartCount: Type.Integer(),
  /**
   * Failures in a row, the run that ended them included: a run of at least the back-off reset
   * (10 min) starts the count again. What crash-loop rescheduling counts; absent means 0.
   */
  recentFailures: Type.Optional(Type.Integer({ minimum: 0 })),
  hostPorts: Type.Record(Type.String(), Type.Integer()),
  exitCode: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  /** When the run ended (warm runs; fresh containers that exited). */
  finishedAt: Type.Optional(Type.String()),
  /** While a restarted container runs again: when its previous run ended (where `logs --previous` stops). */
  lastFinishedAt: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

export const InstanceStatusSchema = Type.Object({
  phase: InstancePhaseSchema,
  ready: Type.Boolean(),
  node: Type.Optional(Type.String()),
  /** The node's address as the agent reports it; must be the address its node joined with. */
  hostIP: Type.Optional(IpAddressSchema),
  message: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  containers: Type.Array(ContainerStatusSchema),
  /** Init containers in order, as far as they ran (the last one is running, failed or done). */
  initContainers: Type.Optional(Type.Array(ContainerStatusSchema)),
  startedAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
  /** What isolation the agent gave the instance: the cores it pinned (cpuset), whether lxcfs' /proc views are mounted. */
  isolation: Type.Optional(Type.Object({ cpuset: Type.Optional(Type.String()), procViews: Type.Optional(Type.Boolean()) })),
});

// ---- Node ----

/** A Linux cpu list like 0-3,6 (what cpuset.cpus and Docker's CpusetCpus take); empty for none. */
const CpuList = Type.String({ pattern: '^([0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*)?$', maxLength: 1024, errorMessage: 'must be a cpu list like 0-3,6' });

export const NodeSpecSchema = Type.Object(
  {
    /** Address other hosts and published ports use to reach this node; fixed when the node joins. */
    address: Type.Optional(IpAddressSchema),
    /** Where the node's agent serves the server (logs); fixed when the node joins. */
    agentPort: Type.Optional(AgentPortSchema),
    unschedulable: Type.Optional(Type.Boolean()),
    /** `gantry node drain`: unschedulable, and its instances are moved away. */
    draining: Type.Optional(Type.Boolean()),
    /** Capacity is multiplied by these before placement (>= 1 allows overcommit). */
    overcommit: Type.Optional(Type.Object({ cpu: Type.Optional(Type.Number({ minimum: 0.1, maximum: 100 })), memory: Type.Optional(Type.Number({ minimum: 0.1, maximum: 100 })) }, { additionalProperties: false })),
    /** Held back for the host itself (system daemons); never placed on. */
    reserved: Type.Optional(ResourcesSchema),
  },
  { additionalProperties: false },
);

export const NodeStatusSchema = Type.Object({
  ready: Type.Boolean(),
  /** Millicores and bytes as the driver fingerprinted them. */
  capacity: Type.Object({ cpu: Type.Integer(), memory: Type.Integer() }),
  driver: DriverNameSchema,
  address: Type.Optional(IpAddressSchema),
  agentUrl: Type.Optional(AgentUrlSchema),
  lastHeartbeat: Type.Optional(Type.String()),
  info: Type.Optional(Type.Record(Type.String(), Type.String())),
  conditions: Type.Array(ConditionSchema),
  /** Cores the agent may pin (cpuMode cpuset): the node's cores less those reserved (agent --reserved-cores). */
  cpuset: Type.Optional(Type.Object({ cpus: CpuList, reserved: CpuList, allocatable: Type.Integer({ minimum: 0 }) })),
  /** Summed usage of the node's containers, written at most once a minute from the agent's samples. */
  usage: Type.Optional(Type.Object({ cpu: Type.Integer(), memory: Type.Integer(), containers: Type.Integer(), at: Type.String() })),
});

// ---- Namespace, Event ----

export const AdmissionProfileSchema = Type.Union([Type.Literal('baseline'), Type.Literal('restricted'), Type.Literal('privileged')], {
  errorMessage: 'must be baseline, restricted or privileged',
});

/** Upper bounds on what a namespace's Services and Jobs may ask for (requests summed over replicas). */
export const QuotaSchema = Type.Object(
  {
    cpu: Type.Optional(Cpu),
    memory: Type.Optional(Memory),
    instances: Type.Optional(Count('instances')),
    services: Type.Optional(Count('services')),
    /** Ports on the load balancer (spec.expose entries) plus fixed host ports. */
    exposedPorts: Type.Optional(Count('ports')),
  },
  { additionalProperties: false },
);

export const NamespaceSpecSchema = Type.Object(
  {
    /** The admission profile of the namespace's workloads (docs/security.md); default baseline. */
    profile: Type.Optional(AdmissionProfileSchema),
    quota: Type.Optional(QuotaSchema),
  },
  { additionalProperties: false },
);

export const EventSpecSchema = Type.Object({
  // uid: the object's when the event was recorded (absent if it did not exist then).
  involved: Type.Object({ kind: Type.String(), namespace: Type.Optional(Type.String()), name: Type.String(), uid: Type.Optional(Type.String()) }),
  type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')]),
  reason: Type.String(),
  message: Type.String(),
  source: Type.String(),
  count: Type.Integer(),
  firstTime: Type.String(),
  lastTime: Type.String(),
});

// ---- Job, CronJob (issue: jobs) ----

export const JobSpecSchema = Type.Object(
  {
    containers: Type.Array(ContainerSchema, { minItems: 1, errorMessage: 'must list at least one container' }),
    initContainers: Type.Optional(Type.Array(ContainerSchema)),
    configFiles: Type.Optional(Type.Array(ConfigFileSchema)),
    completions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, errorMessage: 'must be a whole number from 1 to 10000' })),
    parallelism: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, errorMessage: 'must be a whole number from 1 to 10000' })),
    backoffLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, errorMessage: 'must be a whole number from 0 to 1000' })),
    activeDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'must be a whole number of seconds, at least 1' })),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ minimum: 0, errorMessage: 'must be a whole number of seconds' })),
    restartPolicy: Type.Optional(Type.Union([Type.Literal('Never'), Type.Literal('OnFailure')], { errorMessage: 'must be Never or OnFailure' })),
    runIn: Type.Optional(Type.Union([Type.Literal('fresh'), Type.Literal('warm')], { errorMessage: 'must be fresh or warm' })),
    /** runIn warm: what keeps the warm container alive between runs; default ["sleep", "2147483647"]. */
    warm: Type.Optional(
      Type.Object(
        { idleCommand: Type.Optional(Type.Array(Type.String(), { minItems: 1, errorMessage: 'must be a command like ["sleep", "2147483647"] that runs until stopped' })) },
        { additionalProperties: false },
      ),
    ),
    placement: Type.Optional(PlacementSchema),
    ...podFields,
  },
  { additionalProperties: false },
);

export const JobRunSchema = Type.Object({
  run: Type.Integer(),
  instance: Type.String(),
  node: Type.Optional(Type.String()),
  phase: InstancePhaseSchema,
  exitCode: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
});

export const JobStatusSchema = Type.Object({
  phase: Type.Union([Type.Literal('Pending'), Type.Literal('Running'), Type.Literal('Succeeded'), Type.Literal('Failed')]),
  active: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  startTime: Type.Optional(Type.String()),
  completionTime: Type.Optional(Type.String()),
  runs: Type.Array(JobRunSchema),
  conditions: Type.Array(ConditionSchema),
});

export const CronJobSpecSchema = Type.Object(
  {
    schedule: Type.String({ minLength: 1, errorMessage: 'must be a cron schedule like "*/5 * * * *", "*/10 * * * * *", "@every 30s" or "@hourly"' }),
    timeZone: Type.Optional(Type.String({ minLength: 1 })),
    concurrencyPolicy: Type.Optional(Type.Union([Type.Literal('Allow'), Type.Literal('Forbid'), Type.Literal('Replace')], { errorMessage: 'must be Allow, Forbid or Replace' })),
    startingDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'must be a whole number of seconds, at least 1' })),
    successfulJobsHistoryLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    failedJobsHistoryLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    suspend: Type.Optional(Type.Boolean()),
    jobTemplate: JobSpecSchema,
  },
  { additionalProperties: false },
);

export const CronJobStatusSchema = Type.Object({
  /** The last scheduled time recorded (before its run was started): never run twice. */
  lastScheduleTime: Type.Optional(Type.String()),
  lastSuccessfulTime: Type.Optional(Type.String()),
  nextScheduleTime: Type.Optional(Type.String()),
  /** Names of this CronJob's Jobs still running. */
  active: Type.Array(Type.String()),
  /** Scheduled times skipped because they were past startingDeadlineSeconds (or Forbid). */
  missed: Type.Integer(),
  lastMissedTime: Type.Optional(Type.String()),
  conditions: Type.Array(ConditionSchema),
});

// ---- Config, Secret (issue: jobs/config) ----

export const ConfigSpecSchema = Type.Object(
  { data: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,253}$' }), Type.String(), { errorMessage: 'must be a map of keys (letters, digits, ".", "_", "-") to string contents' }) },
  { additionalProperties: false },
);

/** Same shape as Config; its values are never shown by get/describe, never logged. */
export const SecretSpecSchema = ConfigSpecSchema;

// ---- Token (issue 13: people's API tokens, node credentials, join tokens) ----

const PersonRoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('edit'), Type.Literal('view'), Type.Literal('metrics')], {
  errorMessage: 'must be one of admin, edit, view, metrics',
});

/**
 * A credential, named by its id (the `<id>` of `gtu_<id>_<secret>`). Written by Gantry only (the
 * token routes, joins); read by admins only, and `secretHash` is never answered.
 */
export const TokenSpecSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('user'), Type.Literal('node'), Type.Literal('join')]),
    /** Hex sha256 of the secret part (32 random bytes); the secret itself is never stored. */
    secretHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** ISO time after which the token is refused. */
    expiresAt: Type.Optional(Type.String()),
    // type user
    user: Type.Optional(Name('user name')),
    role: Type.Optional(PersonRoleSchema),
    /** The namespaces the role applies in; ['*']: every namespace. */
    namespaces: Type.Optional(Type.Array(Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\\*)$', maxLength: 63 }))),
    // type node
    node: Type.Optional(Type.String()),
    address: Type.Optional(Type.String()),
    agentPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // type join
    usesLeft: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const TokenStatusSchema = Type.Object({
  revokedAt: Type.Optional(Type.String()),
  lastUsedAt: Type.Optional(Type.String()),
  uses: Type.Optional(Type.Integer({ minimum: 0 })),
});

// ---- Envelopes ----

export type ObjectMeta = Static<typeof ObjectMetaSchema>;
export type Resources = Static<typeof ResourcesSchema>;
export type PortSpec = Static<typeof PortSchema>;
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type ContainerSpec = Static<typeof ContainerSchema>;
export type SecurityContext = Static<typeof SecurityContextSchema>;
export type VolumeSpec = Static<typeof VolumeSchema>;
export type VolumeMount = Static<typeof VolumeMountSchema>;
export type RestartPolicy = Static<typeof RestartPolicySchema>;
export type Placement = Static<typeof PlacementSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type ServiceSpec = Static<typeof ServiceSpecSchema>;
export type ServiceStatus = Static<typeof ServiceStatusSchema>;
export type InstancePhase = Static<typeof InstancePhaseSchema>;
export type InstanceSpec = Static<typeof InstanceSpecSchema>;
export type InstanceStatus = Static<typeof InstanceStatusSchema>;
export type ContainerStatus = Static<typeof ContainerStatusSchema>;
export type NodeSpec = Static<typeof NodeSpecSchema>;
export type NodeStatus = Static<typeof NodeStatusSchema>;
export type EventSpec = Static<typeof EventSpecSchema>;
export type NamespaceSpec = Static<typeof NamespaceSpecSchema>;
export type AdmissionProfile = Static<typeof AdmissionProfileSchema>;
export type QuotaSpec = Static<typeof QuotaSchema>;
export type UpdateStrategy = Static<typeof UpdateStrategySchema>;
export type Termination = Static<typeof TerminationSchema>;
export type ExposeSpec = Static<typeof ExposeSchema>;
export type ConfigFileSpec = Static<typeof ConfigFileSchema>;
export type RolloutPhase = Static<typeof RolloutPhaseSchema>;
export type RolloutStatus = Static<typeof RolloutStatusSchema>;
export type ServiceTemplate = Static<typeof ServiceTemplateSchema>;
export type ServiceVersionSpec = Static<typeof ServiceVersionSpecSchema>;
export type JobSpec = Static<typeof JobSpecSchema>;
export type JobRun = Static<typeof JobRunSchema>;
export type JobStatus = Static<typeof JobStatusSchema>;
export type CronJobSpec = Static<typeof CronJobSpecSchema>;
export type CronJobStatus = Static<typeof CronJobStatusSchema>;
export type ConfigSpec = Static<typeof ConfigSpecSchema>;
export type TokenSpec = Static<typeof TokenSpecSchema>;
export type TokenStatus = Static<typeof TokenStatusSchema>;

/** Metadata of a stored object: the server has filled uid, revision and createdAt. */
export type StoredMeta = ObjectMeta & { uid: string; revision: number; createdAt: string; namespace?: string };

interface Envelope<K extends string, S, T> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: StoredMeta;
  spec: S;
  status?: T;
}

export type Service = Envelope<'Service', ServiceSpec, ServiceStatus>;
export type Instance = Envelope<'Instance', InstanceSpec, InstanceStatus>;
export type GantryNode = Envelope<'Node', NodeSpec, NodeStatus>;
export type Namespace = Envelope<'Namespace', NamespaceSpec, Record<string, never>>;
export type GantryEvent = Envelope<'Event', EventSpec, Record<string, never>>;
export type ServiceVersion = Envelope<'ServiceVersion', ServiceVersionSpec, Record<string, never>>;
export type Job = Envelope<'Job', JobSpec, JobStatus>;
export type CronJob = Envelope<'CronJob', CronJobSpec, CronJobStatus>;
export type Config = Envelope<'Config', ConfigSpec, Record<string, never>>;
export type Secret = Envelope<'Secret', ConfigSpec, Record<string, never>>;
export type Token = Envelope<'Token', TokenSpec, TokenStatus>;

export type AnyObject = Service | Instance | GantryNode | Namespace | GantryEvent | ServiceVersion | Job | CronJob | Config | Secret | Token;
export type Kind = AnyObject['kind'];
export type ObjectOf<K extends Kind> = Extract<AnyObject, { kind: K }>;

/** An object as a user submits it: metadata may lack the server-set fields. */
export type Manifest<O extends AnyObject = AnyObject> = Omit<O, 'metadata' | 'status'> & {
  metadata: ObjectMeta;
  status?: O['status'];
};
