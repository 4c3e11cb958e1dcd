/**
 * The largest policy AWS accepts (20 KB), each statement with conditions the simulation must
 * combine. Its analysis time is measured by the policy bench (`npm run bench`), not here.
 */
export function largestPolicy(): string {
  const statements = Array.from({ length: 52 }, (_, i) => ({
    Sid: `S${i}`,
    Effect: i % 2 ? 'Deny' : 'Allow',
    Principal: i % 3 ? '*' : { AWS: `arn:aws:iam::${String(100000000000 + i)}:role/r${i}` },
    Action: ['s3:GetObject', `s3:Put${i}*`],
    Resource: ['arn:aws:s3:::example-bucket', `arn:aws:s3:::example-bucket/p-${i}/*`],
    Condition: {
      StringNotEquals: { 'aws:SourceVpce': [`vpce-${i}`, `vpce-${i + 1}`] },
      Bool: { 'aws:SecureTransport': 'false' },
      NumericLessThan: { 's3:TlsVersion': '1.2' },
      Null: { 's3:x-amz-server-side-encryption': 'true' },
    },
  }));
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
