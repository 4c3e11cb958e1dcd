import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';
import { RCP_HTTPS_ONLY } from '../helpers/policy-layers.js';

/**
 * The effective policy layers end to end, with the real CLI against moto as an organisation
 * nobody here wrote: an RCP enforcing TLS (AWS's published example) attached to one OU, a
 * member bucket under it with no TLS statement of its own, the same kind of bucket in a member
 * outside that OU, and one in the management account, which RCPs never cover.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}

const BUILD_ORG = `
import boto3, json, re, sys
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
org = boto3.client('organizations', **kw)
org.create_organization(FeatureSet='ALL')
root = org.list_roots()['Roots'][0]['Id']
org.enable_policy_type(RootId=root, PolicyType='RESOURCE_CONTROL_POLICY')
secure = org.create_organizational_unit(ParentId=root, Name='secure')['OrganizationalUnit']['Id']
ids = {'root': root, 'secure': secure}
for name in ['inside', 'outside']:
    r = org.create_account(Email=name + '@example.com', AccountName=name)
    ids[name] = org.describe_create_account_status(CreateAccountRequestId=r['CreateAccountStatus']['Id'])['CreateAccountStatus']['AccountId']
org.move_account(AccountId=ids['inside'], SourceParentId=root, DestinationParentId=secure)
policy = org.create_policy(Content=sys.argv[2], Description='TLS only', Name='EnforceTLS', Type='RESOURCE_CONTROL_POLICY')['Policy']['PolicySummary']['Id']
org.attach_policy(PolicyId=policy, TargetId=secure)
ids['policy'] = policy
sts = boto3.client('sts', **kw)
for name in ['inside', 'outside']:
    c = sts.assume_role(RoleArn='arn:aws:iam::%s:role/OrganizationAccountAccessRole' % ids[name], RoleSessionName='setup')['Credentials']
    s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
    s3.create_bucket(Bucket=name + '-data-' + ids[name])
boto3.client('s3', **kw).create_bucket(Bucket='management-data')
# In the member under the OU: a bucket that admits requests only through access points, with
# one access point without a policy; and a bucket whose default key lets anyone decrypt.
c = sts.assume_role(RoleArn='arn:aws:iam::%s:role/OrganizationAccountAccessRole' % ids['inside'], RoleSessionName='setup')['Credentials']
member = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
s3 = boto3.client('s3', **member)
ap_bucket = 'ap-only-' + ids['inside']
s3.create_bucket(Bucket=ap_bucket)
s3.put_bucket_policy(Bucket=ap_bucket, Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{'Sid': 'OnlyThroughAccessPoints', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*', 'Resource': ['arn:aws:s3:::' + ap_bucket, 'arn:aws:s3:::' + ap_bucket + '/*'], 'Condition': {'StringNotEquals': {'s3:DataAccessPointAccount': ids['inside']}}}]}))
control = boto3.client('s3control', **member)
# The endpoint rules put the account id in front of the host; moto listens on 127.0.0.1.
control.meta.events.register('before-send.s3-control', lambda request, **_: setattr(request, 'url', re.sub(r'^http://\\d{12}\\.', 'http://', request.url)))
ids['accessPoint'] = control.create_access_point(AccountId=ids['inside'], Name='analytics', Bucket=ap_bucket)['AccessPointArn']
kms = boto3.client('kms', **member)
key = kms.create_key(Description='open key')['KeyMetadata']['Arn']
kms.put_key_policy(KeyId=key, PolicyName='default', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{'Sid': 'Admin', 'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::%s:root' % ids['inside']}, 'Action': 'kms:*', 'Resource': '*'}, {'Sid': 'AnyoneDecrypts', 'Effect': 'Allow', 'Principal': '*', 'Action': 'kms:Decrypt', 'Resource': '*'}]}))
open_bucket = 'open-key-' + ids['inside']
s3.create_bucket(Bucket=open_bucket)
s3.put_bucket_encryption(Bucket=open_bucket, ServerSideEncryptionConfiguration={'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key}}]})
ids['openKey'] = key
print(json.dumps(ids))
`;

interface Finding {
  ruleId: string;
  status: string;
  message: string;
  details: Record<string, unknown>;
  resource: { name: string; account: string };
}

describe.skipIf(!availability.ok)('RCPs judged with bucket policies, against moto', () => {
  let moto: MotoServer;
  let ids: Record<
    'root' | 'secure' | 'inside' | 'outside' | 'policy' | 'accessPoint' | 'openKey',
    string
  >;
  const run = async (args: string[]) => {
    const cli = startCli(
      args,
      {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
      },
      isolatedHome(),
    );
    const done = await cli.done;
    return { code: done.code, stdout: cli.stdout(), stderr: cli.stderr() };
  };

  beforeAll(async () => {
    moto = await startMoto();
    ids = JSON.parse(
      execFileSync('python3', ['-c', BUILD_ORG, moto.endpoint, RCP_HTTPS_ONLY], {
        encoding: 'utf8',
      }).trim(),
    );
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('PASSes TLS under the OU whose RCP enforces it, naming the RCP; FAILs outside it and in the management account, saying why', async () => {
    // Act
    const scan = await run([
      'scan',
      '--org',
      '--role-name',
      'OrganizationAccountAccessRole',
      '--format',
      'json',
    ]);

    // Assess
    expect(scan.code, scan.stderr).toBe(0);
    const { findings } = JSON.parse(scan.stdout) as { findings: Finding[] };
    const tls = (bucket: string) =>
      findings.find((f) => f.ruleId === 's3-bucket-tls-enforced' && f.resource.name === bucket);
    expect(tls(`inside-data-${ids.inside}`)).toMatchObject({
      status: 'PASS',
      message: `Bucket inside-data-${ids.inside} denies every request that does not use TLS: denied by RCP ${ids.policy} 'EnforceTLS' attached to ${ids.secure}.`,
      details: {
        bucketPolicy: 'absent',
        enforcedBy: [{ layer: 'rcp', policyId: ids.policy, attachedTo: ids.secure }],
      },
    });
    expect(tls(`outside-data-${ids.outside}`)).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining(
        "The 2 RCPs on the account's path do not enforce it either.",
      ),
    });
    // The access point path, as a finding about the access point; the open key policy.
    // Under the OU, both the access-point-only Deny and the RCP refuse plain HTTP.
    expect(tls(`ap-only-${ids.inside}`)).toMatchObject({
      status: 'PASS',
      message: expect.stringMatching(
        /denied by the bucket policy statement #0 \(Sid "OnlyThroughAccessPoints"\) and by RCP /,
      ),
    });
    expect(findings.find((f) => f.ruleId === 's3-access-point-encryption-enforced')).toMatchObject({
      status: 'FAIL',
      resource: { arn: ids.accessPoint, name: `ap-only-${ids.inside}`, account: ids.inside },
      message: expect.stringContaining(`SSE-C uploads still get through ${ids.accessPoint}`),
    });
    expect(
      findings.find(
        (f) =>
          f.ruleId === 's3-bucket-kms-key-decrypt-restricted' &&
          f.resource.name === `open-key-${ids.inside}`,
      ),
    ).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining(`The key policy of ${ids.openKey}`),
    });
    expect(tls('management-data')).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(
        /No RCP covers it: RCPs never apply to the management account \(123456789012\) of organisation o-/,
      ),
    });
  }, 120_000);

  it('says whether each account’s RCPs are readable in the preflight', async () => {
    // Act
    const check = await run([
      'accounts',
      '--org',
      '--check',
      '--role-name',
      'OrganizationAccountAccessRole',
    ]);

    // Assess
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(
        `${ids.inside} .*RCPs: readable \\(4 attached on its path: .*${ids.policy} on ${ids.secure}`,
      ),
    );
    expect(check.stdout).toMatch(
      /123456789012 .*RCPs: none apply \(the management account is never covered by RCPs\)/,
    );
    expect(check.stdout).toMatch(/RCPs readable for 3 of 3/);
  }, 60_000);
});
