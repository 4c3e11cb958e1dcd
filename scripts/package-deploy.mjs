// After `osls package`: puts the member-role and forwarder templates beside the packaged stack, so the
// package is everything an organisation-wide deployment needs (the stack in the scanner
// account, the StackSet and the member role for the management account).
import { copyFile, mkdir } from 'node:fs/promises';

const TEMPLATES = ['member-role.yml', 'member-role-stackset.yml', 'rescan-forwarder.yml'];
await mkdir('.serverless/deploy', { recursive: true });
for (const name of TEMPLATES) await copyFile(`deploy/${name}`, `.serverless/deploy/${name}`);
console.log(`member-role templates copied to .serverless/deploy/: ${TEMPLATES.join(', ')}`);
