// Must NOT compile: the package's types reject a misspelt status name.
import type { SspiError } from 'sspi-context';
export const c: SspiError['code'] = 'SEC_E_LOGON_DENYED';
