import { KMSServiceException } from '@aws-sdk/client-kms';
import { OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import { STSServiceException } from '@aws-sdk/client-sts';

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

/** The 304 a GetObject with a matching If-None-Match gets; the SDK names it "304" (aws-sdk-js-v3#5860). */
export const s3NotModified = () =>
  Object.assign(s3Error('304', 304, 'UnknownError'), { Code: undefined, Message: undefined });

/** SSM's answer for a parameter that does not exist: ParameterNotFound, HTTP 400. */
export function ssmParameterNotFound() {
  return new SSMServiceException({
    name: 'ParameterNotFound',
    $fault: 'client',
    $metadata: meta(400),
    message: '',
  });
}

/** SSM's AccessDeniedException (HTTP 400), e.g. a role without ssm:GetParameter. */
export function ssmAccessDenied(arn: string) {
  return new SSMServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: meta(400),
    message: `User: arn:aws:sts::111122223333:assumed-role/s3scan/scan is not authorized to perform: ssm:GetParameter on resource: ${arn} because no identity-based policy allows the ssm:GetParameter action`,
  });
}

/** An Organizations error (JSON protocol: the name is the exception's shape name). */
export function organizationsError(name: string, httpStatusCode: number, message: string) {
  return new OrganizationsServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: meta(httpStatusCode),
    message,
  });
}

/**
 * An STS error (query protocol: `Error.Code` becomes the name). A denied AssumeRole and one on
 * a role that does not exist both answer this AccessDenied, 403.
 */
export function stsError(name: string, httpStatusCode: number, message: string) {
  return Object.assign(
    new STSServiceException({
      name,
      $fault: httpStatusCode >= 500 ? 'server' : 'client',
      $metadata: meta(httpStatusCode),
      message,
    }),
    { Error: { Type: 'Sender', Code: name, Message: message } },
  );
}
