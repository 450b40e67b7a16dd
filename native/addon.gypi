# The addon's one target. gyp reads paths in an included file relative to that file, so both
# entry points build the same sources: ../binding.gyp (the repository: npm ci, prebuildify) and
# binding.gyp here (the published package, which has no binding.gyp at its root; see there).
{
  "targets": [
    {
      "target_name": "teracron_process",
      "sources": ["addon.cc", "seal.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["proc_linux.cc"],
          "cflags_cc!": ["-std=gnu++17"],
          "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
        }],
        ["OS=='mac'", {
          "sources": ["proc_darwin.cc"],
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "WARNING_CFLAGS": ["-Wall", "-Wextra"]
          }
        }],
        ["OS!='linux' and OS!='mac'", {
          "sources": ["proc_unsupported.cc"]
        }],
        ["OS=='win'", {
          "msvs_settings": {
            "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"], "ExceptionHandling": 0 }
          }
        }]
      ]
    }
  ]
}
