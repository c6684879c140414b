// The object model (docs/architecture.md, "Concepts") as TypeBox schemas. The same schema objects
// validate API bodies and CLI files and give the TypeScript types, so the three cannot drift.
// `errorMessage` on a schema is the text a user sees when that field fails; see validate.ts.
import Type, { type Static } from 'typebox';
import { CPU_PATTERN, DURATION_PATTERN, MEMORY_PATTERN } from './quantity.js';

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
  { cpu: Type.Optional(Cpu), memory: Type.Optional(Memory) },
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
    http: Type.Optional(Type.Object({ port: PortRef, path: Type.Optional(Type.String({ pattern: '^/' , errorMessage: 'must start with /' })) }, { additionalProperties: false })),
    tcp: Type.Optional(Type.Object({ port: PortRef }, { additionalProperties: false })),
    exec: Type.Optional(Type.Object({ command: Type.Array(Type.String(), { minItems: 1 }) }, { additionalProperties: false })),
    interval: Type.Optional(Duration),
    timeout: Type.Optional(Duration),
    retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    startPeriod: Type.Optional(Duration),
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
  },
  { additionalProperties: false },
);

export const RestartPolicySchema = Type.Union([Type.Literal('Always'), Type.Literal('OnFailure'), Type.Literal('Never')], {
  errorMessage: 'must be one of Always, OnFailure, Never',
});

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
  },
  { additionalProperties: false },
);

export const ServiceStatusSchema = Type.Object({
  replicas: Type.Integer(),
  readyReplicas: Type.Integer(),
  observedGeneration: Type.Optional(Type.Integer()),
  conditions: Type.Array(ConditionSchema),
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
    /** Summed requests of all containers: millicores and bytes. */
    resources: Type.Object({ cpu: Type.Integer(), memory: Type.Integer() }),
    /** Hash of the Service template this instance was made from. */
    templateHash: Type.String(),
  },
  { additionalProperties: false },
);

export const ContainerStatusSchema = Type.Object({
  name: Type.String(),
  containerId: Type.Optional(Type.String()),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('running'), Type.Literal('exited')]),
  restartCount: Type.Integer(),
  hostPorts: Type.Record(Type.String(), Type.Integer()),
  exitCode: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

export const InstanceStatusSchema = Type.Object({
  phase: InstancePhaseSchema,
  ready: Type.Boolean(),
  node: Type.Optional(Type.String()),
  hostIP: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  containers: Type.Array(ContainerStatusSchema),
  startedAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
});

// ---- Node ----

export const NodeSpecSchema = Type.Object(
  {
    /** Address other hosts and published ports use to reach this node. */
    address: Type.Optional(Type.String()),
    unschedulable: Type.Optional(Type.Boolean()),
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
  driver: Type.String(),
  address: Type.Optional(Type.String()),
  agentUrl: Type.Optional(Type.String()),
  lastHeartbeat: Type.Optional(Type.String()),
  info: Type.Optional(Type.Record(Type.String(), Type.String())),
  conditions: Type.Array(ConditionSchema),
});

// ---- Namespace, Event ----

export const NamespaceSpecSchema = Type.Object({}, { additionalProperties: false });

export const EventSpecSchema = Type.Object({
  involved: Type.Object({ kind: Type.String(), namespace: Type.Optional(Type.String()), name: Type.String() }),
  type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')]),
  reason: Type.String(),
  message: Type.String(),
  source: Type.String(),
  count: Type.Integer(),
  firstTime: Type.String(),
  lastTime: Type.String(),
});

// ---- Envelopes ----

export type ObjectMeta = Static<typeof ObjectMetaSchema>;
export type Resources = Static<typeof ResourcesSchema>;
export type PortSpec = Static<typeof PortSchema>;
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type ContainerSpec = Static<typeof ContainerSchema>;
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
export type Namespace = Envelope<'Namespace', Record<string, never>, Record<string, never>>;
export type GantryEvent = Envelope<'Event', EventSpec, Record<string, never>>;

export type AnyObject = Service | Instance | GantryNode | Namespace | GantryEvent;
export type Kind = AnyObject['kind'];
export type ObjectOf<K extends Kind> = Extract<AnyObject, { kind: K }>;

/** An object as a user submits it: metadata may lack the server-set fields. */
export type Manifest<O extends AnyObject = AnyObject> = Omit<O, 'metadata' | 'status'> & {
  metadata: ObjectMeta;
  status?: O['status'];
};
