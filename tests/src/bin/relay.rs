//! The relay's command line, built with the tests so a test can run the relay as a process of
//! its own (and kill it).

fn main() -> std::process::ExitCode {
    webmail_server::cli::run()
}
