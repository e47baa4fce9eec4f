# Builds build/Release/lvsd_native.node, the generic-syscall Node-API addon (docs/native.md), and
# build/Release/lvsd-pacer, the helper process a VRRP master's routine adverts leave from.
{
  "targets": [
    {
      "target_name": "lvsd_native",
      "sources": ["native/addon.cc", "native/errno.cc", "native/poller.cc", "native/tcp_probe.cc", "native/http_probe.cc", "native/timer.cc", "native/pacer.cc", "native/silence.cc", "native/loop.cc", "native/loop_timer.cc", "native/pacer_remote.cc", "native/send_many.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: when a worker is being stopped, node-addon-api
      # drops an error it cannot throw instead of aborting the process.
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc!": ["-std=gnu++17", "-O3"],
      "cflags!": ["-O3"],
      # The distribution's hardening flags where dpkg-buildflags exists (Debian: stack protector,
      # _FORTIFY_SOURCE, format checks, relro + bindnow, -ffile-prefix-map for reproducible builds);
      # elsewhere (rpmbuild) CXXFLAGS/LDFLAGS from the environment, which node-gyp's Makefile reads.
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(sh packaging/buildflags.sh CPPFLAGS)", "<!@(sh packaging/buildflags.sh CXXFLAGS)"],
      # -z nodelete: a worker that loaded the addon dlclose()s it at exit, but libuv still calls
      # the poll handles' close callbacks (code in this library) after that; never unmap it.
      "ldflags": ["-Wl,-z,nodelete", "<!@(sh packaging/buildflags.sh LDFLAGS)"]
    },
    {
      # build/Release/lvsd-pacer: the process that sends a master's routine adverts (pacer_helper.c)
      "target_name": "lvsd-pacer",
      "type": "executable",
      "sources": ["native/pacer_helper.c"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall", "-Wextra", "<!@(sh packaging/buildflags.sh CPPFLAGS)", "<!@(sh packaging/buildflags.sh CFLAGS)"],
      "ldflags": ["<!@(sh packaging/buildflags.sh LDFLAGS)"],
      "libraries": ["-lm"]
    }
  ]
}
