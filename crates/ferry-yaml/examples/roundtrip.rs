//! Read YAML documents from stdin and print them as kustomize would (debugging aid).
use std::io::Read;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut src = String::new();
    std::io::stdin().read_to_string(&mut src)?;
    let docs = ferry_yaml::from_str_multi_with(&src, &ferry_yaml::Options::KUSTOMIZE_RESOURCES)?;
    #[allow(clippy::print_stdout)]
    {
        print!("{}", ferry_yaml::to_string_multi(&docs));
    }
    Ok(())
}
