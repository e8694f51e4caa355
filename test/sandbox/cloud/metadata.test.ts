/**
 * The metadata server emulator against google-auth-library's own metadata client (Compute) and the rules
 * of Google's metadata server: the Metadata-Flavor header both ways, no proxied requests, tokens that the
 * emulated Google APIs accept only when issued here.
 */
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MetadataServer, startMetadataServer } from "../../../sandbox/metadata/server.ts";
import { listen, type Service } from "../../../sandbox/service.ts";

let metadata: MetadataServer;
let api: Service;

beforeAll(async () => {
  metadata = await startMetadataServer({
    project: "p",
    serviceAccount: "deployer@p.iam.gserviceaccount.com",
  });
  api = await listen(
    metadata.guard("api", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    }),
  );
});
afterAll(async () => {
  await api?.close();
  await metadata?.close();
});

const get = (path: string, headers: Record<string, string> = { "Metadata-Flavor": "Google" }) =>
  fetch(`${metadata.url}/computeMetadata/v1/${path}`, { headers });

describe("the metadata server", () => {
  it("answers with Metadata-Flavor: Google: project, account email and a token", async () => {
    const project = await get("project/project-id");
    expect(project.headers.get("metadata-flavor")).toBe("Google");
    expect(await project.text()).toBe("p");
    expect(await (await get("instance/service-accounts/default/email")).text()).toBe(
      "deployer@p.iam.gserviceaccount.com",
    );
    const token = (await (await get("instance/service-accounts/default/token")).json()) as Record<
      string,
      unknown
    >;
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: expect.any(Number) });
    expect(metadata.isIssued(token.access_token as string)).toBe(true);
  });

  it("refuses a request without Metadata-Flavor: Google, or a proxied one", async () => {
    expect((await get("project/project-id", {})).status).toBe(403);
    expect(
      (await get("project/project-id", { "Metadata-Flavor": "Google", "X-Forwarded-For": "10.0.0.1" }))
        .status,
    ).toBe(403);
  });

  it("serves google-auth's Compute client, whose token the guarded API accepts", async () => {
    const previous = process.env.GCE_METADATA_HOST;
    process.env.GCE_METADATA_HOST = metadata.host;
    try {
      const client = new googleAuthLibrary.Compute();
      const { token } = await client.getAccessToken();
      expect(token).toMatch(/^ya29\.sandbox-/);
      const ok = await fetch(api.url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(metadata.authorized.get("api")).toBe(1);
    } finally {
      if (previous === undefined) delete process.env.GCE_METADATA_HOST;
      else process.env.GCE_METADATA_HOST = previous;
    }
  });

  it("makes the guarded API refuse a token it did not issue, and pass requests with none", async () => {
    const forged = await fetch(api.url, { headers: { authorization: "Bearer ya29.sandbox-forged" } });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { status: string } }).error.status).toBe("UNAUTHENTICATED");
    expect((await fetch(api.url)).status).toBe(200);
  });

  it("answers 404 for a token when no service account is attached", async () => {
    const bare = await startMetadataServer({ project: "p", serviceAccount: null });
    try {
      const response = await fetch(`${bare.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
        headers: { "Metadata-Flavor": "Google" },
      });
      expect(response.status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
