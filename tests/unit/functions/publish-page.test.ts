import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishPageHandler } from '../../../functions/publish-page.js';
import { s3Error } from '../../helpers/aws-errors.js';

const s3Mock = mockClient(S3Client);
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const CONFIG = {
  api: '/api',
  auth: {
    authorizeUrl: 'https://s3scan-ci.auth.us-east-1.amazoncognito.com/oauth2/authorize',
    tokenUrl: 'https://s3scan-ci.auth.us-east-1.amazoncognito.com/oauth2/token',
    clientId: 'client123',
    redirectUri: 'https://d111111abcdef8.cloudfront.net/',
    scopes: ['openid', 'email'],
  },
};

/** CloudFormation's side: a presigned-URL stand-in on 127.0.0.1 recording each answer. */
let server: Server;
let responseUrl = '';
const answers: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      answers.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?X-Amz-Signature=abc`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  s3Mock.reset();
  answers.length = 0;
});

function event(type: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:publish-page',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/s3scan-ci/guid',
    RequestId: 'request-1',
    LogicalResourceId: 'DashboardPage',
    ResourceType: 'Custom::DashboardPage',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:publish-page',
      Bucket: 'page-bucket',
      KmsKeyArn: KEY,
      Config: CONFIG,
    },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 's3://page-bucket/' }),
  } as CloudFormationCustomResourceEvent;
}

const handler = publishPageHandler({
  s3: () =>
    new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  webRoot: 'dist/web',
});

describe('Function: publish-page (the Custom::DashboardPage resource)', () => {
  it('puts the built page and its config under the pinned key, then answers SUCCESS', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });

    // Act
    await handler(event('Create'));

    // Assess
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key).sort()).toEqual([
      'app.css',
      'app.js',
      'config.json',
      'index.html',
    ]);
    for (const put of puts)
      expect(put).toMatchObject({
        Bucket: 'page-bucket',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KEY,
        CacheControl: 'no-cache',
      });
    expect(puts.find((p) => p.Key === 'index.html')?.ContentType).toBe('text/html; charset=utf-8');
    expect(JSON.parse(String(puts.find((p) => p.Key === 'config.json')?.Body))).toEqual(CONFIG);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 's3://page-bucket/',
      StackId: event('Create').StackId,
      RequestId: 'request-1',
      LogicalResourceId: 'DashboardPage',
    });
    // The presigned PUT is signed without a content type.
    expect(answers[0]?.headers['content-type']).toBeFalsy();
  });

  it('answers FAILED with the reason when S3 refuses, instead of leaving the stack waiting', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403, 'Access Denied'));

    // Act
    await handler(event('Update'));

    // Assess
    expect(answers[0]?.body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 's3://page-bucket/',
    });
    expect(String(answers[0]?.body.Reason)).toMatch(
      /could not put (index\.html|app\.js|app\.css) into s3:\/\/page-bucket: AccessDenied/,
    );
  });

  it('removes the page on Delete, and reports per-key errors of a 200 answer as FAILED', async () => {
    // Prepare
    s3Mock
      .on(DeleteObjectsCommand)
      .resolvesOnce({})
      .resolvesOnce({
        Errors: [{ Key: 'app.js', Code: 'AccessDenied', Message: 'Access Denied' }],
      });

    // Act
    await handler(event('Delete'));
    await handler(event('Delete'));

    // Assess
    const deleted = s3Mock.commandCalls(DeleteObjectsCommand)[0]?.args[0].input.Delete?.Objects;
    expect(deleted?.map((o) => o.Key).sort()).toEqual([
      'app.css',
      'app.js',
      'config.json',
      'index.html',
    ]);
    expect(answers.map((a) => a.body.Status)).toEqual(['SUCCESS', 'FAILED']);
    expect(String(answers[1]?.body.Reason)).toContain('app.js (AccessDenied)');
  });
});
