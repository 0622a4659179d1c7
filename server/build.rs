// include_dir! cannot tell Cargo (on stable) which files it read, so a
// changed console file would not rebuild the server without this.
fn main() {
    println!("cargo:rerun-if-changed=../console");
}
