//! Runs LALRPOP on `../grammar/python.lalrpop`, writing the generated parser into `OUT_DIR`.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let grammar_dir = manifest.join("../grammar");
    println!("cargo:rerun-if-changed=../grammar/python.lalrpop");
    println!("cargo:rerun-if-changed=build.rs");
    lalrpop::Configuration::new()
        .set_in_dir(&grammar_dir)
        .set_out_dir(env::var("OUT_DIR").expect("OUT_DIR"))
        .emit_rerun_directives(false)
        .process()
        .expect("LALRPOP failed to process grammar/python.lalrpop");
}
