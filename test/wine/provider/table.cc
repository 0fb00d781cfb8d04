// The SecurityFunctionTableW secur32 loads through InitSecurityInterfaceW.
#include "provider.h"

namespace {

SecurityFunctionTableW MakeTable() {
  using namespace sspitest;
  SecurityFunctionTableW t;
  memset(&t, 0, sizeof t);  // every entry not set here is NULL: secur32 answers UNSUPPORTED
  t.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION;
  t.EnumerateSecurityPackagesW = EnumeratePackages;
  t.AcquireCredentialsHandleW = Acquire;
  t.FreeCredentialsHandle = FreeCred;
  t.InitializeSecurityContextW = Initialize;
  t.AcceptSecurityContext = Accept;
  t.DeleteSecurityContext = DeleteCtx;
  t.QueryContextAttributesW = QueryAttr;
  t.ImpersonateSecurityContext = Impersonate;
  t.RevertSecurityContext = Revert;
  t.MakeSignature = Sign;
  t.VerifySignature = Verify;
  t.FreeContextBuffer = FreeBuffer;
  t.QuerySecurityPackageInfoW = QueryPackageInfo;
  t.ExportSecurityContext = Export;
  t.ImportSecurityContextW = Import;
  t.QuerySecurityContextToken = QueryToken;
  t.EncryptMessage = Seal;
  t.DecryptMessage = Unseal;
  return t;
}

}  // namespace

// Runs while secur32 initialises: no SSPI calls, no threads (PROVIDER.md).
// Exported as InitSecurityInterfaceW by sspitest.def (sspi.h declares that name dllimport).
extern "C" PSecurityFunctionTableW SEC_ENTRY SspiTestInitSecurityInterfaceW(void) {
  static SecurityFunctionTableW table = MakeTable();
  return &table;
}
