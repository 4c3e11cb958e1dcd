import 'aws-sdk-client-mock-vitest/extend';

// No test may reach the EC2 metadata service (or any non-loopback address) while the SDK
// looks for credentials, and the Node 20 support notice is noise in test output.
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
