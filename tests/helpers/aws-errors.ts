import { KMSServiceException } from '@aws-sdk/client-kms';
import { S3ServiceException } from '@aws-sdk/client-s3';

/** `$metadata` as SDK v3 attaches it to every error. */
export const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'R3QU35T1D',
  extendedRequestId: 'eXtEnDeD/ID=',
  attempts: 1,
  totalRetryDelay: 0,
});

/** An S3 error as the SDK throws it after deserialising AWS's XML body. */
export function s3Error(
  name: string,
  httpStatusCode: number,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return Object.assign(
    new S3ServiceException({
      name,
      $fault: httpStatusCode >= 500 ? 'server' : 'client',
      $metadata: meta(httpStatusCode),
      message,
    }),
    { Code: name, Message: message, RequestId: 'R3QU35T1D', HostId: 'h0st1d', ...extra },
  );
}

/** The 301 S3 answers a client in the wrong region, with the region header. */
export function s3Redirect(region: string) {
  return Object.assign(
    s3Error(
      'PermanentRedirect',
      301,
      'The bucket you are attempting to access must be addressed using the specified endpoint.',
    ),
    {
      $response: { statusCode: 301, headers: { 'x-amz-bucket-region': region } },
    },
  );
}

/** A KMS error; AccessDeniedException is unmodeled and arrives with HTTP 400. */
export function kmsError(name: string, httpStatusCode: number, message: string) {
  return new KMSServiceException({
    name,
    $fault: 'client',
    $metadata: meta(httpStatusCode),
    message,
  });
}

export const noSuchBucketPolicy = () =>
  s3Error('NoSuchBucketPolicy', 404, 'The bucket policy does not exist');
export const s3AccessDenied = () => s3Error('AccessDenied', 403, 'Access Denied');
export const kmsAccessDenied = (action: string, key: string) =>
  kmsError(
    'AccessDeniedException',
    400,
    `User: arn:aws:sts::111122223333:assumed-role/s3scan/scan is not authorized to perform: ${action} on resource: ${key} because no resource-based policy allows the ${action} action`,
  );
