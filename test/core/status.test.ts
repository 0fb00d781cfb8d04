import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeStatus, ntStatusToSecStatus, STATUS_TABLE } from '../../lib/status.js';

// Values typed from the Windows SDK's winerror.h and ntstatus.h, not from the table.
const SDK_SAMPLE: Array<[string, number]> = [
  ['SEC_E_OK', 0x00000000],
  ['SEC_E_INSUFFICIENT_MEMORY', 0x80090300],
  ['SEC_E_INVALID_HANDLE', 0x80090301],
  ['SEC_E_UNSUPPORTED_FUNCTION', 0x80090302],
  ['SEC_E_SECPKG_NOT_FOUND', 0x80090305],
  ['SEC_E_INVALID_TOKEN', 0x80090308],
  ['SEC_E_LOGON_DENIED', 0x8009030c],
  ['SEC_E_MESSAGE_ALTERED', 0x8009030f],
  ['SEC_E_OUT_OF_SEQUENCE', 0x80090310],
  ['SEC_I_CONTINUE_NEEDED', 0x00090312],
  ['SEC_I_COMPLETE_NEEDED', 0x00090313],
  ['SEC_I_COMPLETE_AND_CONTINUE', 0x00090314],
  ['SEC_E_CONTEXT_EXPIRED', 0x80090317],
  ['SEC_E_INCOMPLETE_MESSAGE', 0x80090318],
  ['SEC_E_BUFFER_TOO_SMALL', 0x80090321],
  ['SEC_E_WRONG_PRINCIPAL', 0x80090322],
  ['SEC_E_TIME_SKEW', 0x80090324],
  ['SEC_E_DECRYPT_FAILURE', 0x80090330],
  ['SEC_E_BAD_BINDINGS', 0x80090346],
  ['SEC_E_INVALID_PARAMETER', 0x8009035d],
  ['STATUS_SUCCESS', 0x00000000],
  ['STATUS_INVALID_PARAMETER', 0xc000000d],
  ['STATUS_NOT_SUPPORTED', 0xc00000bb],
  ['STATUS_INSUFFICIENT_RESOURCES', 0xc000009a],
  ['STATUS_LOGON_FAILURE', 0xc000006d],
  ['STATUS_MORE_PROCESSING_REQUIRED', 0xc0000016],
  ['STATUS_ACCESS_DENIED', 0xc0000022],
  ['STATUS_NO_SUCH_PACKAGE', 0xc00000fe],
];

describe('status table', () => {
  it.each(SDK_SAMPLE)('%s has the SDK value', (name, value) => {
    expect(describeStatus(name).value).toBe(value);
    expect(describeStatus(name).unknown).toBe(false);
  });

  it('describes by number and by name', () => {
    const a = describeStatus(0x8009030c);
    expect(a.name).toBe('SEC_E_LOGON_DENIED');
    expect(a.hex).toBe('0x8009030C');
    expect(a.severity).toBe('error');
    expect(a.message.length).toBeGreaterThan(10);
    expect(describeStatus('SEC_E_LOGON_DENIED')).toBe(a);
    expect(describeStatus('sec_e_logon_denied')).toBe(a);
    expect(describeStatus(-2146893044)).toBe(a); // signed HRESULT
    expect(describeStatus('0x8009030C')).toBe(a);
  });

  it('marks unknown codes with their hex value', () => {
    const r = describeStatus(0x8009ffff);
    expect(r.unknown).toBe(true);
    expect(r.hex).toBe('0x8009FFFF');
    expect(r.name).toContain('0x8009FFFF');
    expect(describeStatus('NOT_A_STATUS').unknown).toBe(true);
  });

  it('has severities from the value', () => {
    expect(describeStatus('SEC_I_CONTINUE_NEEDED').severity).toBe('informational');
    expect(describeStatus('SEC_E_OK').severity).toBe('success');
    expect(describeStatus('STATUS_LOGON_FAILURE').severity).toBe('error');
    expect(describeStatus('STATUS_SUCCESS').family).toBe('NTSTATUS');
  });

  it('maps SEC_E <-> NTSTATUS as kernel-mode sspi.h does', () => {
    expect(describeStatus('SEC_E_LOGON_DENIED').counterpart).toBe('STATUS_LOGON_FAILURE');
    expect(describeStatus('SEC_E_INVALID_TOKEN').counterpart).toBe('STATUS_INVALID_PARAMETER');
    expect(describeStatus('SEC_E_UNSUPPORTED_FUNCTION').counterpart).toBe('STATUS_NOT_SUPPORTED');
    expect(ntStatusToSecStatus(0xc000006d)).toBe(0x8009030c);
    expect(ntStatusToSecStatus(0xc00000bb)).toBe(0x80090302);
    expect(ntStatusToSecStatus(0xc000009a)).toBe(0x80090300);
    expect(ntStatusToSecStatus(0x80090308)).toBe(0x80090308);
    expect(ntStatusToSecStatus(0xdeadbeef)).toBe(0x80090304);
    for (const r of STATUS_TABLE) {
      if (r.counterpart) expect(describeStatus(r.counterpart).unknown, `${r.name} -> ${r.counterpart}`).toBe(false);
    }
  });

  it('names are unique', () => {
    const names = STATUS_TABLE.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
  });

  // The mingw-w64 copy of the SDK headers (installed by .ci/run for the Wine build) checks every row.
  const headers = ['/usr/share/mingw-w64/include/winerror.h', '/usr/share/mingw-w64/include/ntstatus.h'];
  const haveHeaders = headers.every((h) => existsSync(h));
  it.skipIf(!haveHeaders)('every row matches the mingw-w64 winerror.h / ntstatus.h (skipped: mingw-w64 headers not installed)', () => {
    const text = headers.map((h) => readFileSync(h, 'utf8')).join('\n');
    const defs = new Map<string, number>();
    for (const m of text.matchAll(/#define\s+((?:SEC_[EI]|STATUS)_\w+)\s+(?:_HRESULT_TYPEDEF_\(|\(\(NTSTATUS\)|\(\(HRESULT\))?\s*(0x[0-9A-Fa-f]+)L?/g)) {
      if (!defs.has(m[1]!)) defs.set(m[1]!, parseInt(m[2]!, 16) >>> 0);
    }
    for (const r of STATUS_TABLE) {
      expect(defs.get(r.name), r.name).toBe(r.value);
    }
  });
});
