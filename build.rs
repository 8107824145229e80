// Compiles proto/profile.proto with protox (pure Rust), so building rprof
// needs no protoc on the machine.
fn main() {
    println!("cargo:rerun-if-changed=proto/profile.proto");
    let fds = match protox::compile(["proto/profile.proto"], ["proto"]) {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!("profile.proto: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = prost_build::Config::new().compile_fds(fds) {
        eprintln!("profile.proto codegen: {e}");
        std::process::exit(1);
    }
}
