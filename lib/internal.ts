/** Symbols the public classes use to reach each other's handles; not exported from the package. */
export const kHandle = Symbol('sspi-context.handle');
export const kBackend = Symbol('sspi-context.backend');
export const kTakeToken = Symbol('sspi-context.takeToken');
