{
  "targets": [
    {
      "target_name": "teracron_process",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/proc_linux.cc"],
          "cflags_cc!": ["-std=gnu++17"],
          "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
        }],
        ["OS=='mac'", {
          "sources": ["native/proc_darwin.cc"],
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "WARNING_CFLAGS": ["-Wall", "-Wextra"]
          }
        }],
        ["OS!='linux' and OS!='mac'", {
          "sources": ["native/proc_unsupported.cc"]
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
