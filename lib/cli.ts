#!/usr/bin/env node
/** The `sspi-context` command: status, inspect, packages, demo. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { getBackend } from './backend/select.js';
import { SspiError } from './errors.js';
import { HANDOFF_MAGIC, decodeHandoff, type HandoffHeader } from './handoff/codec.js';
import { describeStatus } from './status.js';

const { version } = require('../package.json') as { version: string };

function fail(message: string): never {
  throw new CommanderError(1, 'sspi-context.error', message);
}

function statusLines(code: string): string[] {
  let row;
  try {
    row = describeStatus(code);
  } catch (e) {
    if (!(e instanceof SspiError)) throw e;
    fail(`not a status: ${code} is outside the 32-bit range`);
  }
  if (row.unknown) fail(`unknown status: ${code}${Number.isNaN(row.value) ? '' : ` (${row.hex})`}`);
  const other = row.counterpart ? describeStatus(row.counterpart) : undefined;
  return [
    `${row.name} (${row.hex})`,
    `  family:      ${row.family}`,
    `  severity:    ${row.severity}`,
    `  message:     ${row.message}`,
    `  counterpart: ${other ? `${other.name} (${other.hex})` : 'none documented'}`,
  ];
}

/** Envelope bytes from raw binary, or from base64/hex text of it. */
export function envelopeBytes(raw: Buffer): Buffer {
  if (raw.subarray(0, 4).equals(HANDOFF_MAGIC)) return raw;
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-f]+$/i.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/=_-]+$/.test(text)) return Buffer.from(text, 'base64');
  return raw;
}

function inspectLines(h: HandoffHeader): string[] {
  const now = Date.now();
  const left = h.expiresAt - now;
  return [
    `handoff envelope v${h.version}`,
    `  package:     ${h.packageName}${h.credentialPackage !== h.packageName ? ` (credential: ${h.credentialPackage})` : ''}`,
    `  id:          ${h.id}`,
    `  sealed:      ${h.sealed ? 'yes (AES-256-GCM)' : 'no'}`,
    `  source pid:  ${h.sourcePid}`,
    `  target pid:  ${h.targetPid === 0 ? 'any' : h.targetPid}`,
    `  created:     ${new Date(h.createdAt).toISOString()}`,
    `  expires:     ${new Date(h.expiresAt).toISOString()} (${left > 0 ? `in ${Math.round(left / 1000)} s` : 'expired'})`,
    `  token:       ${h.token.mode === 'none' ? 'none' : `handle duplicated into pid ${h.token.targetPid}`}`,
    `  sizes:       envelope ${h.length} bytes, packed context ${h.packedLength} bytes${h.sealed ? ' (+16-byte tag)' : ''}`,
  ];
}

export function buildProgram(out: (line: string) => void = (l) => console.log(l)): Command {
  const program = new Command('sspi-context')
    .description('Hand an authenticated SSPI security context to another process.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('status')
    .description('explain a SECURITY_STATUS or NTSTATUS, by number or name')
    .argument('<code>', 'e.g. 0x8009030C, -2146893044 or SEC_E_LOGON_DENIED')
    .action((code: string) => statusLines(code).forEach((l) => out(l)));

  program
    .command('inspect')
    .description('decode a handoff envelope header (never prints keys or context bytes)')
    .argument('<file>', "envelope file (binary, base64 or hex), or '-' for stdin")
    .option('--json', 'print JSON')
    .action((file: string, opts: { json?: boolean }) => {
      let raw: Buffer;
      try {
        raw = readFileSync(file === '-' ? 0 : file);
      } catch (e) {
        fail(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const bytes = envelopeBytes(raw);
      // Text that merely decodes as base64 or hex is not an envelope: say so, not "truncated".
      if (!bytes.subarray(0, 4).equals(HANDOFF_MAGIC)) fail(`not an envelope: ${file} does not start with the handoff magic (binary, base64 or hex)`);
      const decoded = decodeHandoff(bytes, { headerOnly: true });
      if (opts.json) out(JSON.stringify(decoded.toJSON().header));
      else inspectLines(decoded.header).forEach((l) => out(l));
    });

  program
    .command('packages')
    .description('list the backend and the security packages it offers')
    .action(() => {
      const backend = getBackend();
      out(`backend: ${backend.name}`);
      for (const p of backend.enumerateSecurityPackages()) out(`  ${p.name.padEnd(12)} max token ${String(p.maxToken).padStart(5)}  ${p.comment}`);
    });

  program
    .command('demo')
    .description('run the demo: authenticate, export, hand to a worker, import, unseal')
    .action(async () => {
      const { runDemo } = require('./demo.js') as typeof import('./demo.js');
      process.exitCode = await runDemo();
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    // No command is a usage error: the help, and a failing exit.
    process.stdout.write(buildProgram().helpInformation());
    return 1;
  }
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'sspi-context.error') process.stderr.write(`sspi-context: ${e.message}\n`);
      return e.exitCode || 1;
    }
    if (e instanceof SspiError) {
      process.stderr.write(`sspi-context: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`sspi-context: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
