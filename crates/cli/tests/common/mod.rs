//! Helpers of the CLI integration tests: running the binary. Everything else is in passerelle-testkit.

#![allow(dead_code, unused_imports)]

use std::process::{Command, Output};

pub use passerelle_testkit::{files_with_ext, run_validator, shared_dir, verify_dir, workspace_root};

pub fn passerelle(args: &[&str]) -> Output {
    // Conversions of inputs without a time of their own are dated 2026-11-20 00:00 UTC.
    Command::new(env!("CARGO_BIN_EXE_passerelle")).env("SOURCE_DATE_EPOCH", "1795132800").args(args).output().expect("run passerelle")
}

pub mod gateway;
pub mod hub;
