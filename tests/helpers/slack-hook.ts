import { createServer } from 'node:http';

/** A Slack incoming webhook on 127.0.0.1 that answers 200 and records every body posted. */
export async function startSlackHook(): Promise<{
  url: string;
  posts: string[];
  close: () => void;
}> {
  const posts: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      posts.push(body);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/secret`,
    posts,
    close: () => server.close(),
  };
}
