{
  "targets": [
    {
      "target_name": "uring_probe",
      "sources": [ "<!@(find native -name '*.cc' | LC_ALL=C sort)" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")", "native" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED" ],
      "cflags": [ "-Wall", "-Wextra", "-O2", "-fno-exceptions", "-pthread" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-O2", "-fno-exceptions", "-pthread" ],
      "ldflags": [ "-pthread" ],
      "libraries": [ "-ldl" ]
    }
  ]
}
