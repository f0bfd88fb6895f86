//! Compiles `kindred/v1/*.proto` (the public API) and
//! `kindred/internal/v1/internal.proto` (node to node) into Rust types and
//! tonic services, and writes the file descriptor set that the node serves through reflection.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let protos: Vec<PathBuf> = std::fs::read_dir("kindred/v1")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    // The directory too: a new .proto file is picked up.
    println!("cargo:rerun-if-changed=kindred/v1");
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    tonic_prost_build::configure()
        // Wire types serialise to JSON (CLI `--output json`, JSON input).
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .message_attribute(".", "#[serde(default)]")
        .file_descriptor_set_path(out.join("kindred_descriptor.bin"))
        // `prost::Name` on every message: the CLI finds a message's
        // descriptor by its full name to print the proto3 JSON mapping.
        .compile_with_config(
            {
                let mut c = prost_build::Config::new();
                c.enable_type_names();
                c
            },
            &protos,
            &[PathBuf::from(".")],
        )?;
    // Node-to-node service: not advertised through reflection.
    let internal = PathBuf::from("kindred/internal/v1/internal.proto");
    println!("cargo:rerun-if-changed={}", internal.display());
    tonic_prost_build::configure().compile_protos(&[internal], &[PathBuf::from(".")])?;
    Ok(())
}
