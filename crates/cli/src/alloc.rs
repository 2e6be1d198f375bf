//! The process-wide allocator: mimalloc, measured faster than glibc malloc on the allocation-heavy
//! normalise + FHIR path (see README, "Performance").

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
