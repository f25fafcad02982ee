// A stand-in for the Actions results service and its blob storage, so the artifact upload of
// run-sweep is exercised for real (@actions/artifact: Twirp CreateArtifact, block-blob upload of the
// zip, FinalizeArtifact) without GitHub. It keeps what it received for the test to inspect.

import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReceivedArtifact {
  name: string;
  /** The uploaded zip, assembled from its blocks in the committed order. */
  zip: Buffer;
  finalized: boolean;
  size: string | null;
  hash: string | null;
}

export interface FakeResultsService {
  url: string;
  /** An unsigned JWT with the Actions.Results scope the client reads its backend ids from. */
  runtimeToken: string;
  artifacts: Map<string, ReceivedArtifact>;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** refuse: artifact names whose CreateArtifact is answered 409 Conflict (a non-retryable failure). */
export async function startFakeResultsService(
  address: string,
  options: { refuse?: string[] } = {},
): Promise<FakeResultsService> {
  const artifacts = new Map<string, ReceivedArtifact>();
  const blocks = new Map<string, Map<string, Buffer>>();
  let nextId = 1000;
  let url = '';
  const server: Server = createServer(async (req, res) => {
    try {
      const data = await body(req);
      const u = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && u.pathname.endsWith('.ArtifactService/CreateArtifact')) {
        const request = JSON.parse(data.toString('utf8')) as { name: string };
        if (options.refuse?.includes(request.name))
          return json(409, { code: 'already_exists', msg: `an artifact named ${request.name} already exists` });
        artifacts.set(request.name, {
          name: request.name,
          zip: Buffer.alloc(0),
          finalized: false,
          size: null,
          hash: null,
        });
        blocks.set(request.name, new Map());
        return json(200, { ok: true, signed_upload_url: `${url}/blob/${encodeURIComponent(request.name)}?sig=test` });
      }
      if (req.method === 'POST' && u.pathname.endsWith('.ArtifactService/FinalizeArtifact')) {
        const request = JSON.parse(data.toString('utf8')) as { name: string; size?: string; hash?: string };
        const artifact = artifacts.get(request.name);
        if (!artifact) return json(404, { code: 'not_found', msg: `no artifact ${request.name}` });
        Object.assign(artifact, { finalized: true, size: request.size ?? null, hash: request.hash ?? null });
        return json(200, { ok: true, artifact_id: String(nextId++) });
      }
      if (req.method === 'PUT' && u.pathname.startsWith('/blob/')) {
        const name = decodeURIComponent(u.pathname.slice('/blob/'.length));
        const stored = blocks.get(name);
        const artifact = artifacts.get(name);
        if (!stored || !artifact) return json(404, {});
        const headers = {
          'x-ms-request-id': `r${nextId}`,
          'x-ms-version': '2024-05-04',
          etag: '"0x1"',
          'last-modified': new Date().toUTCString(),
        };
        if (u.searchParams.get('comp') === 'block') {
          stored.set(u.searchParams.get('blockid') ?? '', data);
        } else if (u.searchParams.get('comp') === 'blocklist') {
          const ids = [...data.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(
            (m) => m[1]!,
          );
          artifact.zip = Buffer.concat(ids.map((id) => stored.get(id) ?? Buffer.alloc(0)));
        } else {
          artifact.zip = data; // a single-shot upload
        }
        res.writeHead(201, headers);
        return res.end();
      }
      json(404, { code: 'not_found', msg: `${req.method} ${u.pathname}` });
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  url = `http://${address}:${port}`;
  const claims = {
    scp: 'Actions.ExampleScope Actions.Results:11111111-2222-3333-4444-555555555555:66666666-7777-8888-9999-000000000000',
    exp: Math.floor(Date.now() / 1000) + 3600,
  };
  return {
    url,
    runtimeToken: `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.`,
    artifacts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
