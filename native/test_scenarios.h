// Test-only entry points of the addon (ringFaultScenario, cancelAwaitScenario, geometryCheckScenario):
// synchronous scenarios that drive the ring classes directly, for the tests' fault injection and
// checks. addon.cc's Init registers them next to the product's exports.
#pragma once

#include <napi.h>

#include "ring.h"

void RegisterTestScenarios(Napi::Env env, Napi::Object exports);

// The result object of a CancelReport; defined in addon.cc (the multishot probe's result holds one).
Napi::Object CancelReportObject(Napi::Env env, const uring::CancelReport& c);
