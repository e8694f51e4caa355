/**
 * `--image` checked before anything is called: the reference grammar of the OCI distribution spec
 * (`[registry[:port]/]path[:tag][@algorithm:hex]`), then the environment's rule — prod deploys a digest
 * (`…@sha256:` + 64 hex) and nothing else, because a tag can be moved after the plan was read; test and stage
 * may deploy a tag, with a warning in the plan.
 *
 * @example
 * checkImage("us-central1-docker.pkg.dev/p/r/jobs:stage", "stage") // { warnings: ["… is a tag …"] }
 * checkImage("jobs:latest", "prod")                                  // throws ConfigError (exit 2)
 */
import type { EnvironmentName } from "../runtime/environments.ts";
import { ConfigError } from "../runtime/errors.ts";

export interface ImageRef {
  /** Registry and path, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

const LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DOMAIN = `(?:${LABEL}(?:\\.${LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+";
const REFERENCE = new RegExp(
  `^(?<repository>(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*)(?::(?<tag>${TAG}))?(?:@(?<digest>${DIGEST}))?$`,
);
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const EXAMPLE = "us-central1-docker.pkg.dev/PROJECT/scheduler-jobs/jobs@sha256:<64 hex>";
const DIGEST_FIX =
  "take the digest cloudbuild-jobs.yaml prints (`pushed: …@sha256:…`) or `gcloud artifacts docker images describe IMAGE:TAG --format='value(image_summary.digest)'`";

/** Parses a reference; a ConfigError naming the fix when it is not one. */
export function parseImageRef(text: string): ImageRef {
  if (/^sha256:/.test(text)) {
    throw new ConfigError(
      `--image ${JSON.stringify(text)} is a digest without its repository: write REPOSITORY@${text}, e.g. ${EXAMPLE}`,
    );
  }
  const match = text.length <= 255 ? REFERENCE.exec(text) : null;
  const groups = match?.groups;
  if (!groups?.repository) {
    throw new ConfigError(
      `--image ${JSON.stringify(text)} is not an image reference: write it as REGISTRY/PATH:TAG or REGISTRY/PATH@sha256:<64 hex>, e.g. ${EXAMPLE}`,
    );
  }
  if (groups.digest && !SHA256.test(groups.digest)) {
    throw new ConfigError(
      `--image ${JSON.stringify(text)} has a malformed digest "${groups.digest}": a digest is sha256: followed by 64 lowercase hex digits; ${DIGEST_FIX}`,
    );
  }
  return {
    repository: groups.repository,
    ...(groups.tag ? { tag: groups.tag } : {}),
    ...(groups.digest ? { digest: groups.digest } : {}),
  };
}

/**
 * The environment's rule for an `--image`. Throws a ConfigError (exit 2) for a malformed reference anywhere
 * and for a tag in prod; returns the plan's warnings (a tag in test or stage).
 */
export function checkImage(text: string, env: EnvironmentName): { ref: ImageRef; warnings: string[] } {
  const ref = parseImageRef(text);
  if (ref.digest) return { ref, warnings: [] };
  const what = ref.tag ? `the tag "${ref.tag}"` : 'no tag or digest (that means ":latest")';
  if (env === "prod") {
    throw new ConfigError(
      `prod deploys images by digest only: --image ${JSON.stringify(text)} has ${what}, which can point at another image tomorrow; pass ${ref.repository}@sha256:<64 hex> — ${DIGEST_FIX}`,
    );
  }
  if (env === "sandbox") return { ref, warnings: [] };
  return {
    ref,
    warnings: [
      `--image ${text} has ${what}: what the jobs run can change if the tag is moved; deploy ${ref.repository}@sha256:… to pin it (required in prod)`,
    ],
  };
}
