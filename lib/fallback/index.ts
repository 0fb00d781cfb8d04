/** The pure-TypeScript fallback backend: NTLM (and Negotiate as an NTLM alias), MS-NLMP NTLMv2. */
export { createFallbackBackend } from './backend.js';
