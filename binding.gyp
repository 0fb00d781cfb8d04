{
  # Windows-only addon. Elsewhere the target has no sources: npm install compiles nothing
  # (scripts/install.mjs does not even run node-gyp off Windows).
  # CMakeLists.txt (the mingw-w64 cross build for Wine) reads its source list from here.
  "targets": [
    {
      "target_name": "sspi_context",
      "conditions": [
        ["OS=='win'", {
          "sources": [
            "native/addon.cc",
            "native/attributes.cc",
            "native/buffers.cc",
            "native/credentials.cc",
            "native/errors.cc",
            "native/handles.cc",
            "native/handshake.cc",
            "native/impersonation.cc",
            "native/message.cc",
            "native/strings.cc",
            "native/tokens.cc",
            "native/transfer.cc",
            "native/wrappers.cc"
          ],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": [
            "NAPI_VERSION=8",
            "NAPI_CPP_EXCEPTIONS",
            "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
            "_HAS_EXCEPTIONS=1",
            "UNICODE",
            "_UNICODE",
            "SECURITY_WIN32",
            "_WIN32_WINNT=0x0A00",
            "WIN32_LEAN_AND_MEAN",
            "NOMINMAX"
          ],
          "libraries": ["secur32.lib", "advapi32.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": {
              "ExceptionHandling": 1,
              "WarningLevel": 4,
              "AdditionalOptions": [
                "/guard:cf",
                "/sdl",
                "/Qspectre",
                "/utf-8",
                "/we4244",
                "/we4267"
              ]
            },
            "VCLinkerTool": {
              "AdditionalOptions": ["/guard:cf", "/DYNAMICBASE", "/NXCOMPAT"]
            }
          }
        }]
      ]
    }
  ]
}
