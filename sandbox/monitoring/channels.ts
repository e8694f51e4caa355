/**
 * Notification channels of the Monitoring emulator, per project as Monitoring keeps them
 * (`projects/{p}/notificationChannels/{numeric id}`): `create`, `get` and `list`, as
 * `NotificationChannelServiceClient` sends them. People create channels (an e-mail, Slack or PagerDuty
 * address), so the emulator starts with the `seeds` in every project it is asked about, and takes more
 * through `notificationChannels.create` like the real API.
 */
import { invalid, notFound } from "../http/errors.ts";
import { Collection } from "../http/store.ts";

export interface Channel {
  name: string;
  type: string;
  displayName: string;
  description?: string;
  labels: Record<string, string>;
  enabled: boolean;
}
export type ChannelSeed = Pick<Channel, "displayName" | "type" | "labels">;

/** Types the emulator accepts, with the label each one requires (Monitoring's channel descriptors). */
const REQUIRED_LABEL: Record<string, string> = {
  email: "email_address",
  sms: "number",
  slack: "channel_name",
  pagerduty: "service_key",
  webhook_tokenauth: "url",
  pubsub: "topic",
};
const SEED_ID = 1000;

export class Channels {
  readonly #store: Collection<Channel>;
  readonly #seeds: readonly ChannelSeed[];
  readonly #seeded = new Set<string>();

  constructor(seeds: readonly ChannelSeed[], dataDir?: string) {
    this.#store = new Collection<Channel>("monitoring-notification-channels", dataDir);
    this.#seeds = seeds;
  }

  /** The project's channels, the seeds first made when the project is first seen. */
  list(project: string): Channel[] {
    this.#seed(project);
    return this.#store.values().filter((channel) => channel.name.startsWith(`projects/${project}/`));
  }

  has(project: string, name: string): boolean {
    return this.list(project).some((channel) => channel.name === name);
  }

  get(project: string, id: string): Channel {
    const channel = this.list(project).find(
      (c) => c.name === `projects/${project}/notificationChannels/${id}`,
    );
    if (!channel)
      throw notFound(`Notification channel projects/${project}/notificationChannels/${id} does not exist`);
    return channel;
  }

  create(project: string, body: Record<string, unknown>): Channel {
    this.#seed(project);
    const type = body.type;
    if (typeof type !== "string" || !type) throw invalid("Field notificationChannel.type is required");
    const required = REQUIRED_LABEL[type];
    if (!required)
      throw invalid(
        `notificationChannel.type "${type}" is not one of ${Object.keys(REQUIRED_LABEL).join(", ")}`,
      );
    const labels = (body.labels ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(labels))
      if (typeof value !== "string") throw invalid(`notificationChannel.labels.${key} must be a string`);
    if (!labels[required]) throw invalid(`A ${type} notification channel needs the label ${required}`);
    const channel: Channel = {
      name: `projects/${project}/notificationChannels/${this.#nextId()}`,
      type,
      displayName: typeof body.displayName === "string" ? body.displayName : "",
      ...(typeof body.description === "string" ? { description: body.description } : {}),
      labels: labels as Record<string, string>,
      enabled: body.enabled !== false,
    };
    this.#store.set(channel.name, channel);
    return channel;
  }

  #nextId(): number {
    const ids = this.#store.values().map((c) => Number(c.name.split("/").at(-1)));
    return Math.max(SEED_ID + this.#seeds.length - 1, ...ids) + 1;
  }

  /** Seeds keep fixed ids (1000, 1001, …) in every project; a persisted seed is not made again. */
  #seed(project: string): void {
    if (this.#seeded.has(project)) return;
    this.#seeded.add(project);
    this.#seeds.forEach((seed, i) => {
      const name = `projects/${project}/notificationChannels/${SEED_ID + i}`;
      if (!this.#store.get(name)) this.#store.set(name, { name, ...seed, enabled: true });
    });
  }
}
