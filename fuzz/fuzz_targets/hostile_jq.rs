#![no_main]

// Runs the rewind executable as the jq worker: scripts/fuzz builds it and points
// REWIND_JQ_WORKER_EXE at it.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rewind::fuzzing::hostile_jq(data)
});
