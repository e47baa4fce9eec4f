# Builds build/Release/lvsd_native.node: the generic-syscall Node-API addon (docs/native.md).
{
  "targets": [
    {
      "target_name": "lvsd_native",
      "sources": ["native/addon.cc", "native/errno.cc", "native/poller.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-std=gnu++17", "-O3"],
      "cflags!": ["-O3"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
