// N-API glue of the throughput engine: sets exports.bench (run, pingPong, modes).
#pragma once

#include <napi.h>

void RegisterBench(Napi::Env env, Napi::Object exports);
